namespace AgentSecurity.Grants.Policy;

/// <summary>
/// A network scope pattern: <c>name:port</c>, <c>*.name:port</c> (exactly one more label), port <c>*</c> for any
/// port. Host names compare case-insensitively.
/// </summary>
public sealed class HostPattern
{
    private readonly string _name;
    private readonly bool _oneMoreLabel;
    private readonly int? _port;

    private HostPattern(string text, string name, bool oneMoreLabel, int? port)
    {
        Text = text;
        _name = name;
        _oneMoreLabel = oneMoreLabel;
        _port = port;
    }

    public string Text { get; }

    public static bool TryParse(string text, out HostPattern pattern)
    {
        pattern = null!;
        var colon = text.LastIndexOf(':');
        if (colon <= 0 || text.Length > ResourceNames.MaxLength)
        {
            return false;
        }

        int? port = null;
        var portText = text.AsSpan(colon + 1);
        if (portText is not "*")
        {
            if (!ResourceNames.TryParsePort(portText, out var number))
            {
                return false;
            }

            port = number;
        }

        var name = text[..colon];
        if (!System.Text.Ascii.IsValid(name))
        {
            return false; // see ResourceNames.TryParseHost: ASCII before lowercasing
        }

        name = name.ToLowerInvariant();
        var oneMoreLabel = name.StartsWith("*.", StringComparison.Ordinal);
        if (oneMoreLabel)
        {
            name = name[2..];
        }

        if (!ResourceNames.IsHostName(name) || (oneMoreLabel && name.StartsWith('[')))
        {
            return false;
        }

        pattern = new HostPattern(text, name, oneMoreLabel, port);
        return true;
    }

    /// <summary>
    /// Whether every host and port <paramref name="narrower"/> allows is also allowed by this pattern. An internal host is
    /// allowed only by a pattern that names it (<see cref="NamesLiterally"/>), so one that <paramref name="narrower"/>
    /// names is covered only by a pattern that names it too, never by a wildcard that matches its text.
    /// </summary>
    public bool Covers(HostPattern narrower)
    {
        if (_port is { } port && narrower._port != port)
        {
            return false;
        }

        if (!_oneMoreLabel)
        {
            return !narrower._oneMoreLabel && string.Equals(_name, narrower._name, StringComparison.Ordinal);
        }

        return narrower._oneMoreLabel
            ? string.Equals(_name, narrower._name, StringComparison.Ordinal)
            : !narrower.NamesInternalHost && NameMatches(narrower._name);
    }

    /// <summary>
    /// Whether this pattern allows an internal host (this machine, a private network, a metadata service): only a
    /// pattern without a wildcard label that names one does (<see cref="InternalAddresses.IsInternalHost"/>).
    /// </summary>
    public bool NamesInternalHost => !_oneMoreLabel && InternalAddresses.IsInternalHost(_name);

    /// <summary>
    /// Whether this pattern names the host itself, with no wildcard label: what an internal address needs
    /// (<see cref="InternalAddresses"/>), where <c>*.0.0.1:80</c> must not stand for 127.0.0.1.
    /// </summary>
    public bool NamesLiterally(string host, int port) => !_oneMoreLabel && Matches(host, port);

    /// <summary>Whether a host (lower case, as <see cref="ResourceNames.TryParseHost"/> gives it) and port match.</summary>
    public bool Matches(string host, int port) => (_port is not { } required || required == port) && NameMatches(host);

    private bool NameMatches(string host)
    {
        if (!_oneMoreLabel)
        {
            return string.Equals(host, _name, StringComparison.Ordinal);
        }

        var labelLength = host.Length - _name.Length - 1;
        return labelLength > 0
            && host.EndsWith(_name, StringComparison.Ordinal)
            && host[labelLength] == '.'
            && host.AsSpan(0, labelLength).IndexOf('.') < 0;
    }
}

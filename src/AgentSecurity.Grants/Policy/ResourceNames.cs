using System.Buffers;
using System.Globalization;

namespace AgentSecurity.Grants.Policy;

/// <summary>
/// The normal form of resources. A resource that is not normal is refused, never repaired: repairing is where
/// path tricks (<c>..</c>, <c>%2e%2e</c>, <c>//</c>, NUL) slip through.
/// </summary>
public static class ResourceNames
{
    public const int MaxLength = 1024;

    private static readonly SearchValues<char> Ipv6Chars = SearchValues.Create("0123456789abcdef:.");
    private static readonly SearchValues<char> LabelChars = SearchValues.Create("abcdefghijklmnopqrstuvwxyz0123456789-_");

    public static bool IsNormal(string resource, ResourceKind kind) => kind switch
    {
        ResourceKind.Path => resource.Length > 0 && resource[0] == '/' && (resource.Length == 1 || HasNormalSegments(resource.AsSpan(1))),
        ResourceKind.Key => HasNormalSegments(resource),
        ResourceKind.Host => TryParseHost(resource, out _, out _),
        ResourceKind.Tool => Tools.ToolNames.IsTool(resource),
        _ => false,
    };

    /// <summary>
    /// Splits <c>host:port</c>. The host is ASCII letters, digits, <c>-</c> and <c>_</c> in dot-separated labels
    /// (or an IPv6 literal in brackets), compared in lower case; the port is 1–65535.
    /// </summary>
    public static bool TryParseHost(string resource, out string host, out int port)
    {
        host = string.Empty;
        port = 0;
        var colon = resource.LastIndexOf(':');
        if (resource.Length > MaxLength || colon <= 0 || !TryParsePort(resource.AsSpan(colon + 1), out port))
        {
            return false;
        }

        // ASCII only, checked before lowercasing: some non-ASCII letters lowercase into ASCII (U+212A KELVIN SIGN
        // becomes 'k'), which would give one host two spellings.
        var name = resource.AsSpan(0, colon);
        if (!System.Text.Ascii.IsValid(name))
        {
            return false;
        }

        // One string, the lower-case one: a host is most often lower case already, and every check of a network
        // capability parses its resource.
        host = name.ContainsAnyInRange('A', 'Z') ? resource[..colon].ToLowerInvariant() : resource[..colon];
        return IsHostName(host) && IsCanonicalIfAddress(host);
    }

    /// <summary>
    /// An IP address has one spelling: dotted-decimal IPv4, compressed IPv6 in brackets. <c>2130706433</c>, <c>0x7f.1</c>
    /// and <c>127.1</c> all reach 127.0.0.1, and a resolver or URL parser may read any of them so.
    /// </summary>
    private static bool IsCanonicalIfAddress(string host)
    {
        var bracketed = host[0] == '[';
        var text = bracketed ? host.AsSpan(1, host.Length - 2) : host.AsSpan();
        if (!System.Net.IPAddress.TryParse(text, out var address))
        {
            return !bracketed;
        }

        var v6 = address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6;
        return bracketed == v6 && text.SequenceEqual(address.ToString());
    }

    internal static bool TryParsePort(ReadOnlySpan<char> text, out int port)
    {
        port = 0;
        return text.Length is >= 1 and <= 5 && text[0] != '0' && AllDigits(text) &&
            int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out port) && port <= 65535;
    }

    internal static bool IsHostName(string host)
    {
        if (host.Length >= 2 && host[0] == '[' && host[^1] == ']')
        {
            return host.Length > 2 && host.AsSpan(1, host.Length - 2).IndexOfAnyExcept(Ipv6Chars) < 0;
        }

        if (host.Length == 0 || host.Length > 253)
        {
            return false;
        }

        var text = host.AsSpan();
        foreach (var range in text.Split('.'))
        {
            var label = text[range];
            if (label.Length is 0 or > 63 || label.IndexOfAnyExcept(LabelChars) >= 0)
            {
                return false;
            }
        }

        return true;
    }

    private static bool HasNormalSegments(ReadOnlySpan<char> text)
    {
        if (text.Length is 0 or > MaxLength)
        {
            return false;
        }

        foreach (var c in text)
        {
            // Controls (NUL among them), percent-escapes and backslashes have no business in a resource name, and a
            // '*' would read as a wildcard wherever a resource is turned into a scope (an approved request, say).
            if (char.IsControl(c) || c is '%' or '\\' or '*')
            {
                return false;
            }
        }

        foreach (var range in text.Split('/'))
        {
            var segment = text[range];
            if (segment.Length == 0 || segment is "." or "..")
            {
                return false;
            }
        }

        return true;
    }

    private static bool AllDigits(ReadOnlySpan<char> text)
    {
        foreach (var c in text)
        {
            if (!char.IsAsciiDigit(c))
            {
                return false;
            }
        }

        return true;
    }
}

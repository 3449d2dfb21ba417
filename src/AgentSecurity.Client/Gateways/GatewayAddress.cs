using System.Buffers;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace AgentSecurity.Client.Gateways;

/// <summary>
/// One gateway as configured: <c>host:port</c>, the host an IP address (<c>10.0.0.5</c>, <c>[fd00::5]</c>) or a DNS
/// name (<c>agentsec-gateway.platform.svc.cluster.local</c>), resolved each time the client refreshes its gateway list.
/// </summary>
public sealed record GatewayAddress
{
    private static readonly SearchValues<char> Digits = SearchValues.Create("0123456789");
    private static readonly SearchValues<char> DigitsAndDots = SearchValues.Create("0123456789.");
    private static readonly SearchValues<char> LabelChars = SearchValues.Create("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_");

    private GatewayAddress(string host, int port, IPAddress? address)
    {
        Host = host;
        Port = port;
        Address = address;
    }

    /// <summary>The DNS name, or the IP address as written (IPv6 without its brackets).</summary>
    public string Host { get; }

    public int Port { get; }

    /// <summary>The address when the host is an IP address; null for a DNS name.</summary>
    public IPAddress? Address { get; }

    public bool IsDnsName => Address is null;

    /// <summary>The addresses' list: comma-separated entries, blanks around and between them ignored.</summary>
    /// <exception cref="FormatException">An entry is not <c>host:port</c>, or there is none.</exception>
    public static IReadOnlyList<GatewayAddress> ParseList(string gateways)
    {
        ArgumentNullException.ThrowIfNull(gateways);
        var entries = gateways.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        return entries.Length > 0
            ? entries.Select(Parse).ToArray()
            : throw new FormatException("no gateway given: name at least one as host:port (silo.example:30000, 10.0.0.5:30000, [fd00::5]:30000)");
    }

    /// <summary>One entry: <c>host:port</c> or <c>[IPv6]:port</c>.</summary>
    /// <exception cref="FormatException">The entry has no port, port 0 or beyond 65535, no host, or a host that is neither an IP address nor a DNS name.</exception>
    public static GatewayAddress Parse(string entry)
    {
        ArgumentNullException.ThrowIfNull(entry);
        var text = entry.Trim();
        if (text.Contains("://", StringComparison.Ordinal))
        {
            throw Invalid(entry, "a gateway is host:port, not a URL");
        }

        string host;
        string port;
        if (text.StartsWith('['))
        {
            var close = text.IndexOf(']', StringComparison.Ordinal);
            if (close < 0 || close + 1 >= text.Length || text[close + 1] != ':')
            {
                throw Invalid(entry, "an IPv6 gateway is [address]:port");
            }

            host = text[1..close];
            port = text[(close + 2)..];
            if (!IPAddress.TryParse(host, out var v6) || v6.AddressFamily != AddressFamily.InterNetworkV6)
            {
                throw Invalid(entry, $"\"{host}\" in brackets is not an IPv6 address");
            }

            if (v6.ScopeId != 0)
            {
                throw Invalid(entry, "an IPv6 zone (%...) cannot be used: Orleans' gateway list has no place for it");
            }

            return new GatewayAddress(host, ParsePort(entry, port), v6);
        }

        var colon = text.IndexOf(':', StringComparison.Ordinal);
        if (colon < 0)
        {
            throw Invalid(entry, "it has no port");
        }

        if (text.IndexOf(':', colon + 1) >= 0)
        {
            throw Invalid(entry, "an IPv6 address goes in brackets: [fd00::5]:30000");
        }

        host = text[..colon];
        port = text[(colon + 1)..];
        if (host.Length == 0)
        {
            throw Invalid(entry, "it has no host");
        }

        var number = ParsePort(entry, port);

        // Digits and dots only is meant as an IPv4 address; one that is not (999.1.1.1) must not go to DNS as a name.
        if (host.AsSpan().IndexOfAnyExcept(DigitsAndDots) < 0)
        {
            return IPAddress.TryParse(host, out var v4) && v4.AddressFamily == AddressFamily.InterNetwork
                ? new GatewayAddress(host, number, v4)
                : throw Invalid(entry, $"\"{host}\" is not an IPv4 address");
        }

        return IsHostName(host) ? new GatewayAddress(host, number, null) : throw Invalid(entry, $"\"{host}\" is neither an IP address nor a DNS name");
    }

    public override string ToString() =>
        Address?.AddressFamily == AddressFamily.InterNetworkV6 ? $"[{Host}]:{Port.ToString(CultureInfo.InvariantCulture)}" : $"{Host}:{Port.ToString(CultureInfo.InvariantCulture)}";

    private static int ParsePort(string entry, string text)
    {
        if (text.Length == 0)
        {
            throw Invalid(entry, "it has no port");
        }

        if (text.Length > 5 || text.AsSpan().IndexOfAnyExcept(Digits) >= 0
            || !int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var port) || port > 65535)
        {
            throw Invalid(entry, $"\"{text}\" is not a port (1 to 65535)");
        }

        return port != 0 ? port : throw Invalid(entry, "port 0 is no gateway's port");
    }

    /// <summary>Letters, digits, <c>-</c> and <c>_</c> in dot-separated labels of at most 63, 253 in all; a final dot allowed.</summary>
    private static bool IsHostName(string host)
    {
        var name = host.EndsWith('.') ? host[..^1] : host;
        if (name.Length is 0 or > 253)
        {
            return false;
        }

        foreach (var label in name.Split('.'))
        {
            if (label.Length is 0 or > 63 || label[0] == '-' || label[^1] == '-'
                || label.AsSpan().IndexOfAnyExcept(LabelChars) >= 0)
            {
                return false;
            }
        }

        return true;
    }

    private static FormatException Invalid(string entry, string problem) =>
        new($"\"{entry}\" is not a gateway host:port: {problem}");
}

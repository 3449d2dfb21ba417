using System.Net;
using System.Net.Sockets;

namespace AgentSecurity.Grants.Policy;

/// <summary>
/// Destinations that are not the public internet: the machine itself, private and shared networks, link-local (cloud
/// metadata), documentation, benchmarking, reserved and multicast ranges, and the names that mean this machine. A network
/// grant for "any host" means the internet; such a destination is allowed only by a scope that names it literally.
/// </summary>
public static class InternalAddresses
{
    private static readonly IPNetwork[] V4 =
    [
        IPNetwork.Parse("0.0.0.0/8"),         // "this network"; 0.0.0.0 reaches the local machine on Linux
        IPNetwork.Parse("10.0.0.0/8"),
        IPNetwork.Parse("100.64.0.0/10"),     // shared address space (CGNAT)
        IPNetwork.Parse("127.0.0.0/8"),
        IPNetwork.Parse("169.254.0.0/16"),    // link-local: cloud metadata services
        IPNetwork.Parse("172.16.0.0/12"),
        IPNetwork.Parse("192.0.0.0/24"),      // IETF protocol assignments
        IPNetwork.Parse("192.0.2.0/24"),      // documentation
        IPNetwork.Parse("192.168.0.0/16"),
        IPNetwork.Parse("198.18.0.0/15"),     // benchmarking
        IPNetwork.Parse("198.51.100.0/24"),   // documentation
        IPNetwork.Parse("203.0.113.0/24"),    // documentation
        IPNetwork.Parse("224.0.0.0/4"),       // multicast
        IPNetwork.Parse("240.0.0.0/4"),       // reserved, and the broadcast address
        IPNetwork.Parse("168.63.129.16/32"),  // Azure's platform address (DNS, health, metadata)
    ];

    private static readonly IPNetwork[] V6 =
    [
        IPNetwork.Parse("::/128"),
        IPNetwork.Parse("::1/128"),
        IPNetwork.Parse("64:ff9b::/32"),      // NAT64 beyond the well-known /96 (judged by its IPv4 address above)
        IPNetwork.Parse("100::/64"),          // discard-only
        IPNetwork.Parse("2001::/32"),         // Teredo: reaches an IPv4 relay chosen by the address
        IPNetwork.Parse("2001:db8::/32"),     // documentation
        IPNetwork.Parse("fc00::/7"),          // unique local
        IPNetwork.Parse("fe80::/10"),         // link-local
        IPNetwork.Parse("fec0::/10"),         // site-local (deprecated, still routed by some stacks)
        IPNetwork.Parse("ff00::/8"),          // multicast
    ];

    /// <summary>Whether an address is internal. IPv6 forms that carry an IPv4 address are judged by that address.</summary>
    public static bool Contains(IPAddress address)
    {
        if (address.AddressFamily == AddressFamily.InterNetworkV6)
        {
            return EmbeddedIPv4(address.GetAddressBytes()) is { } embedded ? Contains(embedded) : Array.Exists(V6, n => n.Contains(address));
        }

        return Array.Exists(V4, n => n.Contains(address));
    }

    /// <summary>
    /// Whether a host, as <see cref="ResourceNames.TryParseHost"/> gives it (lower case, IPv6 in brackets), is internal: an
    /// internal address, or a name that by definition is this machine (<c>localhost</c> and its subdomains, RFC 6761).
    /// Other names are judged where they are resolved.
    /// </summary>
    public static bool IsInternalHost(string host)
    {
        if (host == "localhost" || host.EndsWith(".localhost", StringComparison.Ordinal))
        {
            return true;
        }

        return TryParseLiteral(host, out var address) && Contains(address);
    }

    /// <summary>An IP address written as a host: dotted IPv4, or IPv6 in brackets.</summary>
    public static bool TryParseLiteral(string host, out IPAddress address)
    {
        address = IPAddress.None;
        var bracketed = host.Length > 2 && host[0] == '[' && host[^1] == ']';
        var text = bracketed ? host.AsSpan(1, host.Length - 2) : host.AsSpan();
        if (!IPAddress.TryParse(text, out var parsed) || bracketed != (parsed.AddressFamily == AddressFamily.InterNetworkV6))
        {
            return false;
        }

        address = parsed;
        return true;
    }

    /// <summary>The IPv4 address an IPv6 address carries: ::ffff:a.b.c.d, ::a.b.c.d, 64:ff9b::a.b.c.d, 2002:aabb:ccdd::.</summary>
    private static IPAddress? EmbeddedIPv4(byte[] v6)
    {
        var zeros10 = v6.AsSpan(0, 10).IndexOfAnyExcept((byte)0) < 0;
        var mapped = zeros10 && v6[10] == 0xff && v6[11] == 0xff;
        var compatible = zeros10 && v6[10] == 0 && v6[11] == 0 && v6.AsSpan(12).IndexOfAnyExcept((byte)0) >= 0 && !(v6[12] == 0 && v6[13] == 0 && v6[14] == 0 && v6[15] == 1);
        var nat64 = v6[0] == 0x00 && v6[1] == 0x64 && v6[2] == 0xff && v6[3] == 0x9b && v6.AsSpan(4, 8).IndexOfAnyExcept((byte)0) < 0;
        if (mapped || compatible || nat64)
        {
            return new IPAddress(v6.AsSpan(12, 4));
        }

        return v6[0] == 0x20 && v6[1] == 0x02 ? new IPAddress(v6.AsSpan(2, 4)) : null;
    }
}

using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace AgentSecurity.Tls;

/// <summary>
/// Makes a development CA and the certificates it issues, with .NET's own APIs (ECDSA P-256, SHA-256): nothing to
/// install. For a developer's machine and tests; production brings its own CA (docs/operations.md).
/// </summary>
public static class DevelopmentCertificates
{
    /// <summary>How long the development CA is valid.</summary>
    public static readonly TimeSpan AuthorityLifetime = TimeSpan.FromDays(3650);

    /// <summary>How long an issued certificate is valid.</summary>
    public static readonly TimeSpan LeafLifetime = TimeSpan.FromDays(825);

    /// <summary>How far back validity starts, so that clocks a little behind accept a certificate made just now.</summary>
    private static readonly TimeSpan Backdate = TimeSpan.FromMinutes(5);

    /// <summary>A self-signed CA that may sign end-entity certificates only (path length 0).</summary>
    public static X509Certificate2 CreateAuthority(string name, TimeProvider time, TimeSpan? lifetime = null)
    {
        ArgumentNullException.ThrowIfNull(time);
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest(new X500DistinguishedName($"CN={name}"), key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(certificateAuthority: true, hasPathLengthConstraint: true, pathLengthConstraint: 0, critical: true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, critical: true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, critical: false));
        var now = time.GetUtcNow();
        return request.CreateSelfSigned(now - Backdate, now + (lifetime ?? AuthorityLifetime));
    }

    /// <summary>
    /// A certificate for <paramref name="role"/> signed by <paramref name="authority"/> (which must hold its private key).
    /// A silo's names both usages (it is dialled and it dials other silos) and carries <paramref name="hosts"/> as subject
    /// alternative names, for tools that check them; a client's names client authentication only.
    /// </summary>
    public static X509Certificate2 Issue(X509Certificate2 authority, PeerRole role, string name, IEnumerable<string> hosts, TimeProvider time,
        TimeSpan? lifetime = null, DateTimeOffset? notBefore = null)
    {
        ArgumentNullException.ThrowIfNull(authority);
        ArgumentNullException.ThrowIfNull(time);
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest(new X500DistinguishedName($"CN={name}"), key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(certificateAuthority: false, hasPathLengthConstraint: false, pathLengthConstraint: 0, critical: true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, critical: true));
        var usages = new OidCollection { new Oid(KeyUsages.ClientAuthentication) };
        if (role == PeerRole.Silo)
        {
            usages.Add(new Oid(KeyUsages.ServerAuthentication));
        }

        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension(usages, critical: false));
        var names = new SubjectAlternativeNameBuilder();
        var any = false;
        foreach (var host in hosts.Where(h => !string.IsNullOrWhiteSpace(h)).Distinct(StringComparer.OrdinalIgnoreCase))
        {
            if (IPAddress.TryParse(host, out var address))
            {
                names.AddIpAddress(address);
            }
            else
            {
                names.AddDnsName(host);
            }

            any = true;
        }

        if (any)
        {
            request.CertificateExtensions.Add(names.Build());
        }

        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, critical: false));
        request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(authority, includeKeyIdentifier: true, includeIssuerAndSerial: false));

        // An issuer cannot vouch beyond its own validity: .NET refuses such a request, so the window is clipped to it.
        var start = Later(notBefore ?? time.GetUtcNow() - Backdate, authority.NotBefore);
        var end = Earlier(start + Backdate + (lifetime ?? LeafLifetime), authority.NotAfter);

        var serial = RandomNumberGenerator.GetBytes(16);
        serial[0] &= 0x7F; // a positive serial number
        using var issued = request.Create(authority, start, end, serial);
        return issued.CopyWithPrivateKey(key);
    }

    private static DateTimeOffset Later(DateTimeOffset a, DateTimeOffset b) => a > b ? a : b;

    private static DateTimeOffset Earlier(DateTimeOffset a, DateTimeOffset b) => a < b ? a : b;
}

using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace AgentSecurity.Tls;

/// <summary>The Extended Key Usages that give a certificate its <see cref="PeerRole"/>.</summary>
public static class KeyUsages
{
    public const string ServerAuthentication = "1.3.6.1.5.5.7.3.1";

    public const string ClientAuthentication = "1.3.6.1.5.5.7.3.2";

    /// <summary>The usage a certificate must name to act in <paramref name="role"/>.</summary>
    public static string For(PeerRole role) => role == PeerRole.Silo ? ServerAuthentication : ClientAuthentication;

    /// <summary>
    /// Whether the certificate names the usage explicitly. A certificate without the extension would count as valid for
    /// every usage elsewhere; here it has no role, so a certificate made for something else cannot pass as a silo.
    /// </summary>
    public static bool Names(X509Certificate2 certificate, string usage) =>
        certificate.Extensions.OfType<X509EnhancedKeyUsageExtension>()
            .Any(extension => extension.EnhancedKeyUsages.Cast<Oid>().Any(oid => oid.Value == usage));
}

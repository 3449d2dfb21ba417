using System.Security.Cryptography.X509Certificates;

namespace AgentSecurity.Tls;

/// <summary>
/// Decides whether a certificate belongs to the cluster: it chains to one of the cluster's CA certificates (the only trust
/// anchors: never the machine's store), is valid now, and names the usage of the role it acts in. Revocation is not
/// checked (a private CA publishes no lists): rotate the CA or issue short-lived certificates instead.
/// </summary>
public sealed class PeerCertificateValidator
{
    private readonly X509Certificate2Collection _authorities;
    private readonly TimeProvider _time;

    public PeerCertificateValidator(X509Certificate2Collection authorities, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(authorities);
        ArgumentNullException.ThrowIfNull(time);
        if (authorities.Count == 0)
        {
            throw new ArgumentException("at least one CA certificate is needed", nameof(authorities));
        }

        _authorities = authorities;
        _time = time;
    }

    /// <param name="certificate">The certificate to judge.</param>
    /// <param name="role">What its holder claims to be.</param>
    /// <param name="presented">The chain the TLS stack built from what the peer sent: only its intermediates are used, never its trust.</param>
    public CertificateCheck Check(X509Certificate2 certificate, PeerRole role, X509Chain? presented = null)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        var usage = KeyUsages.For(role);
        if (!KeyUsages.Names(certificate, usage))
        {
            return CertificateCheck.Refused($"{Describe(certificate)} does not name the usage of a {(role == PeerRole.Silo ? "silo (server authentication)" : "client (client authentication)")}");
        }

        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.AddRange(_authorities);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        // Nothing is fetched from addresses a certificate names: a handshake must not make the silo call out.
        chain.ChainPolicy.DisableCertificateDownloads = true;
        chain.ChainPolicy.VerificationTime = _time.GetUtcNow().UtcDateTime;
        chain.ChainPolicy.VerificationTimeIgnored = false;
        if (presented is not null)
        {
            foreach (var element in presented.ChainElements.Skip(1))
            {
                chain.ChainPolicy.ExtraStore.Add(element.Certificate);
            }
        }

        if (!chain.Build(certificate))
        {
            var problems = chain.ChainStatus.Select(s => s.Status).Where(s => s != X509ChainStatusFlags.NoError).Distinct();
            return CertificateCheck.Refused($"{Describe(certificate)} is not trusted by the cluster's CA: {string.Join(", ", problems)}");
        }

        // CustomRootTrust already confines trust to the CA certificates; checking the anchor again costs nothing.
        var anchor = chain.ChainElements[^1].Certificate;
        return _authorities.Any(a => a.RawDataMemory.Span.SequenceEqual(anchor.RawDataMemory.Span))
            ? CertificateCheck.Ok
            : CertificateCheck.Refused($"{Describe(certificate)} does not chain to the cluster's CA");
    }

    private static string Describe(X509Certificate2 certificate) =>
        $"certificate \"{certificate.Subject}\" (SHA-256 {certificate.GetCertHashString(System.Security.Cryptography.HashAlgorithmName.SHA256)})";
}

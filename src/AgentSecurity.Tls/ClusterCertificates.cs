using System.Security.Cryptography.X509Certificates;

namespace AgentSecurity.Tls;

/// <summary>What one end of the cluster's TLS needs: its own certificate (with the private key) and the cluster's CA certificates.</summary>
public sealed class ClusterCertificates
{
    public ClusterCertificates(X509Certificate2 certificate, X509Certificate2Collection authorities)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        ArgumentNullException.ThrowIfNull(authorities);
        if (!certificate.HasPrivateKey)
        {
            throw new ArgumentException($"the certificate \"{certificate.Subject}\" has no private key", nameof(certificate));
        }

        if (authorities.Count == 0)
        {
            throw new ArgumentException("at least one CA certificate is needed", nameof(authorities));
        }

        Certificate = certificate;
        Authorities = authorities;
    }

    public X509Certificate2 Certificate { get; }

    public X509Certificate2Collection Authorities { get; }

    /// <summary>Reads the files (see <see cref="CertificateFiles"/>); throws <see cref="CertificateFileException"/>.</summary>
    public static ClusterCertificates Load(string certificateFile, string? keyFile, string caFile, string? password = null) =>
        new(CertificateFiles.LoadCertificate(certificateFile, keyFile, password), CertificateFiles.LoadAuthorities(caFile));

    /// <summary>
    /// Whether this end's own certificate is one the other ends will accept in <paramref name="role"/>: checked before a
    /// silo starts or a client connects, so a wrong file is an error that names it, not a handshake that fails later.
    /// </summary>
    public CertificateCheck CheckOwn(PeerRole role, TimeProvider time)
    {
        var validator = new PeerCertificateValidator(Authorities, time);
        var check = validator.Check(Certificate, role);
        return check.Trusted && role == PeerRole.Silo && !KeyUsages.Names(Certificate, KeyUsages.ClientAuthentication)
            ? CertificateCheck.Refused($"certificate \"{Certificate.Subject}\" does not name client authentication, which a silo needs to connect to other silos")
            : check;
    }
}

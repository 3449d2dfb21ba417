namespace AgentSecurity.Hosting;

/// <summary>
/// The silo's TLS (configuration section <c>Silo:Tls</c>; environment <c>AGENTSEC_TLS_CERT</c>, <c>AGENTSEC_TLS_KEY</c>,
/// <c>AGENTSEC_TLS_CA</c>, <c>AGENTSEC_TLS_PASSWORD</c>). Unset by default: a silo on loopback may then run without TLS,
/// one that listens beyond loopback refuses to start. Set, every silo-to-silo and gateway connection is mutual TLS 1.3
/// with certificates of the cluster's CA (see <see cref="SiloTlsExtensions"/>).
/// </summary>
public sealed class SiloTlsOptions
{
    public const string SectionName = "Silo:Tls";

    /// <summary>This silo's certificate: PEM (with <see cref="KeyFile"/>, or holding the key itself) or PKCS#12 (.pfx).</summary>
    public string? CertificateFile { get; set; }

    /// <summary>The PEM private key of <see cref="CertificateFile"/>, when it is in a file of its own.</summary>
    public string? KeyFile { get; set; }

    /// <summary>The cluster's CA certificates (PEM, one or more): the only trust anchors for silos and clients.</summary>
    public string? CaFile { get; set; }

    /// <summary>The password of an encrypted PEM key or of a PKCS#12 file.</summary>
    public string? Password { get; set; }

    /// <summary>Whether any TLS setting is given (then all that are needed must be).</summary>
    public bool AnySet => !string.IsNullOrEmpty(CertificateFile) || !string.IsNullOrEmpty(KeyFile) || !string.IsNullOrEmpty(CaFile) || !string.IsNullOrEmpty(Password);
}

using AgentSecurity.Grants;
using AgentSecurity.Tls;

namespace AgentSecurity.Cli;

/// <summary>
/// The command line's TLS to the gateways: the files of <c>AGENTSEC_TLS_CERT</c>, <c>AGENTSEC_TLS_KEY</c>,
/// <c>AGENTSEC_TLS_CA</c> (and <c>AGENTSEC_TLS_PASSWORD</c>), the same variables a silo reads; else the development
/// client certificate <c>tls/client.crt</c> with <c>client.key</c> and <c>ca.crt</c> in <c>$AGENTSEC_STATE_DIR</c> when that
/// is set, else in <c>.agentsec/</c> (here, or in the repository the <c>agentsec</c> script runs from), which <c>./run.sh</c>
/// makes; else none, which only a loopback cluster without TLS accepts. Files that are named but unusable are an error,
/// never a fallback to clear text.
/// </summary>
internal static class ClientTls
{
    public const string DevelopmentFolderName = "tls";

    /// <summary>Where <c>agentsec tls init</c> makes the development files unless told: where this class looks first.</summary>
    public static string DevelopmentDirectory => Path.Combine(DevelopmentFiles.Directory, DevelopmentFolderName);

    /// <summary>The certificates to connect with, null for none, or why the configured ones cannot be used.</summary>
    public static Result<ClusterCertificates?> Resolve(TimeProvider time)
    {
        var certificate = Environment.GetEnvironmentVariable("AGENTSEC_TLS_CERT");
        var key = Environment.GetEnvironmentVariable("AGENTSEC_TLS_KEY");
        var authority = Environment.GetEnvironmentVariable("AGENTSEC_TLS_CA");
        var password = Environment.GetEnvironmentVariable("AGENTSEC_TLS_PASSWORD");
        string source;
        if (new[] { certificate, key, authority }.Any(v => !string.IsNullOrEmpty(v)))
        {
            if (string.IsNullOrEmpty(certificate) || string.IsNullOrEmpty(authority))
            {
                return Result<ClusterCertificates?>.Fail(CliOutput.UsageError, "AGENTSEC_TLS_CERT and AGENTSEC_TLS_CA are both needed when any AGENTSEC_TLS_* file is set");
            }

            source = "AGENTSEC_TLS_CERT/AGENTSEC_TLS_KEY/AGENTSEC_TLS_CA";
        }
        else if (DevelopmentFolder() is { } folder)
        {
            certificate = Path.Combine(folder, DevelopmentTlsFolder.ClientCertificate);
            key = Path.Combine(folder, DevelopmentTlsFolder.ClientKey);
            authority = Path.Combine(folder, DevelopmentTlsFolder.AuthorityCertificate);
            password = null;
            source = $"the development certificates in {folder}";
        }
        else
        {
            return Result<ClusterCertificates?>.Ok(null);
        }

        ClusterCertificates certificates;
        try
        {
            certificates = ClusterCertificates.Load(certificate, string.IsNullOrEmpty(key) ? null : key, authority, password);
        }
        catch (CertificateFileException e)
        {
            return Result<ClusterCertificates?>.Fail(CliOutput.UsageError, $"TLS ({source}): {e.Message}");
        }

        var own = certificates.CheckOwn(PeerRole.Client, time);
        return own.Trusted
            ? Result<ClusterCertificates?>.Ok(certificates)
            : Result<ClusterCertificates?>.Fail(CliOutput.UsageError, $"TLS ({source}): the cluster would refuse this client's certificate: {own.Problem}");
    }

    private static string? DevelopmentFolder() =>
        DevelopmentFiles.FolderHolding(Path.Combine(DevelopmentFolderName, DevelopmentTlsFolder.ClientCertificate)) is { } folder
            ? Path.Combine(folder, DevelopmentFolderName)
            : null;
}

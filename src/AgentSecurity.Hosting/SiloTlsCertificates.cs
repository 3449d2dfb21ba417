using System.Net;
using AgentSecurity.Tls;

namespace AgentSecurity.Hosting;

/// <summary>
/// Reads and checks the silo's TLS settings once, for the validator and for the connections alike: what is missing,
/// unreadable, or a certificate the other silos would refuse is a problem that names the setting.
/// </summary>
internal static class SiloTlsCertificates
{
    private const string Certificate = $"{SiloTlsOptions.SectionName}:CertificateFile (AGENTSEC_TLS_CERT)";
    private const string Key = $"{SiloTlsOptions.SectionName}:KeyFile (AGENTSEC_TLS_KEY)";
    private const string Authority = $"{SiloTlsOptions.SectionName}:CaFile (AGENTSEC_TLS_CA)";

    /// <summary>
    /// Whether the silo is reachable from anywhere but this machine: then nothing may travel in clear.
    /// A silo in Kubernetes hosting listens on every address of its pod whatever else is set (Orleans' Kubernetes hosting
    /// binds the silo and gateway ports to any address).
    /// </summary>
    public static bool ListensBeyondLoopback(SiloHostOptions host) =>
        host.ListenOnAnyAddress || host.KubernetesHosting || !(IPAddress.TryParse(host.AdvertisedHost, out var address)
            ? IPAddress.IsLoopback(address)
            : string.Equals(host.AdvertisedHost, "localhost", StringComparison.OrdinalIgnoreCase));

    /// <returns>The certificates (null when TLS is not configured and need not be), or the problems.</returns>
    public static (ClusterCertificates? Certificates, IReadOnlyList<string> Problems) Read(SiloTlsOptions tls, SiloHostOptions host, TimeProvider time)
    {
        if (!tls.AnySet)
        {
            return ListensBeyondLoopback(host)
                ? (null, [$"{Certificate} and {Authority} are required: this silo listens beyond loopback (Silo:ListenOnAnyAddress = {host.ListenOnAnyAddress}, Silo:KubernetesHosting = {host.KubernetesHosting}, Silo:AdvertisedHost = {host.AdvertisedHost}), and nothing leaves loopback without TLS"])
                : (null, []);
        }

        var problems = new List<string>();
        if (string.IsNullOrEmpty(tls.CertificateFile))
        {
            problems.Add($"{Certificate} is required when other {SiloTlsOptions.SectionName} settings are given");
        }

        if (string.IsNullOrEmpty(tls.CaFile))
        {
            problems.Add($"{Authority} is required with {Certificate}: the cluster's CA is the only trust anchor for other silos and clients");
        }

        if (problems.Count > 0)
        {
            return (null, problems);
        }

        System.Security.Cryptography.X509Certificates.X509Certificate2 own;
        try
        {
            own = CertificateFiles.LoadCertificate(tls.CertificateFile!, tls.KeyFile, tls.Password);
        }
        catch (CertificateFileException e)
        {
            var setting = e.File == tls.KeyFile ? Key : string.IsNullOrEmpty(tls.KeyFile) ? Certificate : $"{Certificate} with {Key}";
            return (null, [$"{setting}: {e.Message}"]);
        }

        System.Security.Cryptography.X509Certificates.X509Certificate2Collection authorities;
        try
        {
            authorities = CertificateFiles.LoadAuthorities(tls.CaFile!);
        }
        catch (CertificateFileException e)
        {
            own.Dispose();
            return (null, [$"{Authority}: {e.Message}"]);
        }

        var certificates = new ClusterCertificates(own, authorities);
        var check = certificates.CheckOwn(PeerRole.Silo, time);
        return check.Trusted
            ? (certificates, [])
            : (null, [$"{Certificate}: other silos would refuse it: {check.Problem} (CA from {Authority}: {tls.CaFile})"]);
    }
}

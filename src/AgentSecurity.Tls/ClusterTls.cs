using System.Net.Security;
using System.Security.Authentication;
using Microsoft.Extensions.Logging;
using Orleans.Connections.Security;

namespace AgentSecurity.Tls;

/// <summary>
/// Orleans' <see cref="TlsOptions"/> for one kind of connection of the cluster: mutual TLS 1.3, this end's certificate
/// always presented, and the other end's certificate required and judged by <see cref="PeerCertificateValidator"/> alone.
/// </summary>
public static class ClusterTls
{
    /// <param name="certificates">This end's certificate and the cluster's CA certificates.</param>
    /// <param name="peer">What the other end of the connection must be.</param>
    /// <param name="time">The clock certificates' validity is read from.</param>
    /// <param name="logger">Where refused peers are logged (event 8001).</param>
    public static TlsOptions Options(ClusterCertificates certificates, PeerRole peer, TimeProvider time, ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(certificates);
        var validator = new PeerCertificateValidator(certificates.Authorities, time);
        return new TlsOptions
        {
            LocalCertificate = certificates.Certificate,
            // Orleans' names: RemoteCertificateMode is what this end demands of the other (as server and as client);
            // ClientCertificateMode is whether this end, when it dials, sends its own certificate. "Allow", the
            // default, silently sends none when the certificate lacks client authentication: require it instead.
            RemoteCertificateMode = RemoteCertificateMode.RequireCertificate,
            ClientCertificateMode = RemoteCertificateMode.RequireCertificate,
            SslProtocols = SslProtocols.Tls13,
            CheckCertificateRevocation = false,
            // With a callback set, Orleans ignores the platform's verdict entirely, so the callback is the whole decision.
            // The platform's chain errors are expected (the cluster's CA is in no machine store) and names are not
            // used: Orleans dials silos by IP endpoint, and the role comes from the certificate's key usage.
            RemoteCertificateValidation = (certificate, chain, errors) =>
            {
                if (errors.HasFlag(SslPolicyErrors.RemoteCertificateNotAvailable))
                {
                    return false;
                }

                var check = validator.Check(certificate, peer, chain);
                if (!check.Trusted && logger is not null)
                {
                    TlsLog.RefusedPeer(logger, peer, check.Problem!);
                }

                return check.Trusted;
            },
        };
    }
}

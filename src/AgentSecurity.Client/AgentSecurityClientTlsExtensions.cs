using System.Security.Cryptography.X509Certificates;
using AgentSecurity.Tls;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Orleans.Configuration;

namespace AgentSecurity.Client;

public static class AgentSecurityClientTlsExtensions
{
    /// <summary>
    /// Connects to the gateways over mutual TLS: the client presents <paramref name="certificate"/> (with its private key,
    /// naming client authentication) and accepts only a gateway whose certificate chains to one of
    /// <paramref name="authorities"/> (the cluster's CA certificates, the only trust anchors) and names server
    /// authentication. A cluster that listens beyond loopback accepts nothing else.
    /// </summary>
    public static IClientBuilder UseAgentSecurityTls(this IClientBuilder client, X509Certificate2 certificate, X509Certificate2Collection authorities, TimeProvider? time = null) =>
        client.UseAgentSecurityTls(new ClusterCertificates(certificate, authorities), time);

    /// <inheritdoc cref="UseAgentSecurityTls(IClientBuilder, X509Certificate2, X509Certificate2Collection, TimeProvider?)"/>
    public static IClientBuilder UseAgentSecurityTls(this IClientBuilder client, ClusterCertificates certificates, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(certificates);
        // A certificate the gateways would refuse fails here, with its reason, instead of as a connection that closes.
        var own = certificates.CheckOwn(PeerRole.Client, time ?? TimeProvider.System);
        if (!own.Trusted)
        {
            throw new ArgumentException($"this client's TLS certificate would be refused by the cluster: {own.Problem}", nameof(certificates));
        }

        client.Configure<ClientConnectionOptions>(options => options.ConfigureConnection(connection =>
        {
            var logger = connection.ApplicationServices.GetService<ILoggerFactory>()?.CreateLogger("AgentSecurity.Tls");
            connection.UseClientTls(ClusterTls.Options(certificates, PeerRole.Silo, time ?? TimeProvider.System, logger));
        }));
        return client;
    }
}

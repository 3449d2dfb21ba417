using AgentSecurity.Tls;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Configuration;

namespace AgentSecurity.Hosting;

public static class SiloTlsExtensions
{
    /// <summary>
    /// The silo's transport security from <see cref="SiloTlsOptions"/> (validated at start, see
    /// <see cref="SiloTlsOptionsValidator"/>). When configured, every connection is mutual TLS 1.3 against the cluster's
    /// CA: the silo port accepts only silos' certificates (server authentication), so a client's certificate cannot open a
    /// silo-to-silo connection; the gateway accepts any certificate of the cluster for client authentication (and the
    /// boundary then asks for a session); dialling another silo, this silo presents its certificate and accepts only a
    /// silo's. Unconfigured, the silo speaks in clear, which the validator allows on loopback only.
    /// </summary>
    public static ISiloBuilder UseAgentSecurityTls(this ISiloBuilder silo, SiloHostOptions host)
    {
        ArgumentNullException.ThrowIfNull(silo);
        ArgumentNullException.ThrowIfNull(host);
        silo.Services.AddOptions<SiloTlsOptions>().Bind(silo.Configuration.GetSection(SiloTlsOptions.SectionName)).ValidateOnStart();
        silo.Services.AddSingleton<IValidateOptions<SiloTlsOptions>>(services => new SiloTlsOptionsValidator(host, Clock(services)));
        var tls = silo.Configuration.GetSection(SiloTlsOptions.SectionName).Get<SiloTlsOptions>() ?? new SiloTlsOptions();
        if (!tls.AnySet)
        {
            return silo;
        }

        silo.Services.AddSingleton(services =>
        {
            var (certificates, problems) = SiloTlsCertificates.Read(services.GetRequiredService<IOptions<SiloTlsOptions>>().Value, host, Clock(services));
            if (certificates is null)
            {
                throw new OptionsValidationException(SiloTlsOptions.SectionName, typeof(SiloTlsOptions), problems);
            }

            var logger = Logger(services);
            if (logger.IsEnabled(LogLevel.Information))
            {
                var notAfter = certificates.Certificate.NotAfter.ToUniversalTime();
                var authorities = string.Join("; ", certificates.Authorities.Select(a => a.Subject));
                HostingTlsLog.SiloTls(logger, certificates.Certificate.Subject, certificates.Certificate.Thumbprint, notAfter, authorities);
            }

            return certificates;
        });
        silo.Configure<SiloConnectionOptions>(connections =>
        {
            connections.ConfigureSiloInboundConnection(connection => connection.UseServerTls(Options(connection, PeerRole.Silo)));
            connections.ConfigureGatewayInboundConnection(connection => connection.UseServerTls(Options(connection, PeerRole.Client)));
            connections.ConfigureSiloOutboundConnection(connection => connection.UseClientTls(Options(connection, PeerRole.Silo)));
        });
        return silo;
    }

    private static Orleans.Connections.Security.TlsOptions Options(IConnectionBuilder connection, PeerRole peer) =>
        ClusterTls.Options(connection.ApplicationServices.GetRequiredService<ClusterCertificates>(), peer, Clock(connection.ApplicationServices), Logger(connection.ApplicationServices));

    private static TimeProvider Clock(IServiceProvider services) => services.GetService<TimeProvider>() ?? TimeProvider.System;

    private static ILogger Logger(IServiceProvider services) =>
        services.GetService<ILoggerFactory>()?.CreateLogger("AgentSecurity.Tls") ?? Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance;
}

using AgentSecurity.Client;
using AgentSecurity.Grants.Crypto;
using AgentSecurity.Tls;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace AgentSecurity.Integration.Tests.Infrastructure;

/// <summary>An Orleans client in the test process, calling as a principal: the "external client" that subscribes to events.</summary>
internal sealed class OrleansClientHost : IAsyncDisposable
{
    private readonly IHost _host;

    private OrleansClientHost(IHost host)
    {
        _host = host;
        Client = host.Services.GetRequiredService<AgentSecurityClient>();
        Grains = host.Services.GetRequiredService<IClusterClient>();
    }

    public AgentSecurityClient Client { get; }

    /// <summary>The raw grain factory: for calls the typed client never makes, such as the kernel's own methods.</summary>
    public IClusterClient Grains { get; }

    /// <param name="gateways">The gateways, <c>host:port[,...]</c>.</param>
    /// <param name="clusterId">The cluster's id.</param>
    /// <param name="caller">Whose session every call carries.</param>
    /// <param name="tls">This client's certificate and the CA it trusts; null for a client in clear text.</param>
    /// <param name="serviceId">The cluster's service id.</param>
    /// <param name="log">Where the client's log goes, when a test reads it.</param>
    /// <param name="cancellation">Ends a start that does not connect: an Orleans client keeps trying a gateway that refuses it.</param>
    public static async Task<OrleansClientHost> StartAsync(string gateways, string clusterId, SigningKey caller, ClusterCertificates? tls,
        string serviceId = "agentsec", ILoggerProvider? log = null, CancellationToken cancellation = default)
    {
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        if (log is not null)
        {
            builder.Logging.AddProvider(log);
        }

        var host = builder
            .UseOrleansClient(client =>
            {
                client.UseAgentSecurity(gateways, clusterId, serviceId).UseAgentSecuritySession(caller);
                if (tls is not null)
                {
                    client.UseAgentSecurityTls(tls);
                }
            })
            .Build();
        try
        {
            await host.StartAsync(cancellation);
        }
        catch
        {
            host.Dispose();
            throw;
        }

        return new OrleansClientHost(host);
    }

    public async ValueTask DisposeAsync()
    {
        await _host.StopAsync(TimeSpan.FromSeconds(5));
        _host.Dispose();
    }
}

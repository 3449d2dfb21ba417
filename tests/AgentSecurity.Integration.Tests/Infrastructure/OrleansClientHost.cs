using AgentSecurity.Client;
using AgentSecurity.Grants.Crypto;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

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

    public static async Task<OrleansClientHost> StartAsync(string gateways, string clusterId, SigningKey caller, string serviceId = "agentsec")
    {
        var host = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings())
            .UseOrleansClient(client => client.UseAgentSecurity(gateways, clusterId, serviceId).UseAgentSecuritySession(caller))
            .Build();
        await host.StartAsync();
        return new OrleansClientHost(host);
    }

    public async ValueTask DisposeAsync()
    {
        await _host.StopAsync(TimeSpan.FromSeconds(5));
        _host.Dispose();
    }
}

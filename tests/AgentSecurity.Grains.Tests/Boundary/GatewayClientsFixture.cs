using AgentSecurity.Abstractions.Audit;
using AgentSecurity.Client;
using AgentSecurity.Grains.Tests.Infrastructure;
using AgentSecurity.Grants.Crypto;
using AgentSecurity.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Time.Testing;
using Orleans.Configuration;
using Orleans.TestingHost;

namespace AgentSecurity.Grains.Tests.Boundary;

/// <summary>
/// Two kernel silos whose gateways clients reach over TCP, as separate processes' clients would (the other fixtures' test
/// clusters connect in memory, one client each): each client of a test has its own connections.
/// </summary>
public sealed class GatewayClientsFixture : IAsyncLifetime
{
    /// <summary>Its own clock, so that the grain tests moving theirs do not move it.</summary>
    public static readonly FakeTimeProvider Time = new(TestDocuments.Epoch.AddDays(800));

    public TestCluster Cluster { get; private set; } = null!;

    public AgentSecurityClient Operator { get; private set; } = null!;

    public DateTimeOffset Now => Time.GetUtcNow();

    public IEnumerable<IServiceProvider> Silos => Cluster.Silos.Select(s => ((InProcessSiloHandle)s).ServiceProvider);

    public async Task InitializeAsync()
    {
        var builder = new TestClusterBuilder(2);
        builder.Options.ConnectionTransport = ConnectionTransportType.TcpSocket;
        builder.AddSiloBuilderConfigurator<SiloConfigurator>();
        builder.AddClientBuilderConfigurator<ClientConfigurator>();
        Cluster = builder.Build();
        await Cluster.DeployAsync();
        Operator = new AgentSecurityClient(Cluster.Client);
    }

    public async Task DisposeAsync()
    {
        await Cluster.StopAllSilosAsync();
        await Cluster.DisposeAsync();
    }

    /// <summary>A client of its own connection, calling as <paramref name="principal"/>.</summary>
    public async Task<IHost> StartClientAsync(SigningKey principal)
    {
        var gateway = Cluster.Primary!.GatewayAddress.Endpoint;
        var host = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings())
            .UseOrleansClient(client => client
                .UseStaticClustering(gateway)
                .Configure<ClusterOptions>(o => (o.ClusterId, o.ServiceId) = (Cluster.Options.ClusterId, Cluster.Options.ServiceId))
                .UseAgentSecuritySession(principal, time: Time))
            .Build();
        await host.StartAsync();
        return host;
    }

    /// <summary>A client as a platform configures it (<c>UseAgentSecurity</c>), given both silos' gateways.</summary>
    public async Task<IHost> StartPlatformClientAsync(SigningKey principal)
    {
        var gateways = string.Join(',', Cluster.Silos.Select(s => $"127.0.0.1:{s.GatewayAddress.Endpoint.Port}"));
        var host = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings())
            .UseOrleansClient(client => client
                .UseAgentSecurity(o => (o.Gateways, o.ClusterId, o.ServiceId) = (gateways, Cluster.Options.ClusterId, Cluster.Options.ServiceId))
                .UseAgentSecuritySession(principal, time: Time))
            .Build();
        await host.StartAsync();
        return host;
    }

    /// <summary>A fresh tenant whose root is <see cref="TestKeys.Root"/>, with <paramref name="agent"/> granted.</summary>
    public async Task<string> NewTenantWithAsync(string agent)
    {
        var tenant = $"gw-{Guid.NewGuid():N}"[..20];
        var created = await Operator.CreateTenantAsync(TestDocuments.Tenant(tenant, Now, TestKeys.Root.Did.Value).SignWith(TestKeys.Operator));
        Assert.True(created.Created, $"{created.Error}: {created.Message}");
        var applied = await Operator.ApplyGrantAsync(TestDocuments.Grant(tenant, agent, Now).SetJson("resourceLimits", ClusterFixture.LoadedMachine).SignWith(TestKeys.Root));
        Assert.True(applied.Applied, $"{applied.Error}: {applied.Message}");
        return tenant;
    }

    private sealed class SiloConfigurator : ISiloConfigurator
    {
        public void Configure(ISiloBuilder silo)
        {
            ClusterFixture.ConfigureKernelSilo(silo);
            silo.Services.AddKeyedSingleton<TimeProvider>(KernelClock.ServiceKey, Time);
        }
    }

    private sealed class ClientConfigurator : IClientBuilderConfigurator
    {
        public void Configure(Microsoft.Extensions.Configuration.IConfiguration configuration, IClientBuilder client) =>
            client.AddMemoryStreams(AuditStreams.ProviderName).UseOneGatewayAtATime().UseAgentSecuritySession(TestKeys.Operator, time: Time);
    }
}

[CollectionDefinition(Name)]
public sealed class GatewayClientsCollection : ICollectionFixture<GatewayClientsFixture>
{
    public const string Name = "gateway clients";
}

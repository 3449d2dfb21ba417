using AgentSecurity.Abstractions;
using AgentSecurity.Abstractions.Audit;
using AgentSecurity.Client;
using AgentSecurity.Grains;
using AgentSecurity.Grains.Audit;
using AgentSecurity.Grains.Memory;
using AgentSecurity.Grains.Tests.Infrastructure;
using AgentSecurity.Grants.Crypto;
using AgentSecurity.Hosting;
using AgentSecurity.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Orleans.Storage;
using Orleans.TestingHost;

namespace AgentSecurity.AI.Tests.Infrastructure;

/// <summary>
/// One in-process silo with the kernel (no sandboxes: the guard needs decisions, not executions) on a fake clock, and a
/// client that calls as the operator. Tests share it, each with its own tenant, and only move the clock forward.
/// </summary>
public sealed class KernelFixture : IAsyncLifetime
{
    public static readonly FakeTimeProvider Time = new(TestDocuments.Epoch);

    private static int _tenants;

    private static readonly string AuditKeyFile = WriteAuditKey();

    public TestCluster Cluster { get; private set; } = null!;

    public AgentSecurityClient Client { get; private set; } = null!;

    public TestAuditLogStore AuditLog => TestAuditLogStore.Shared;

    public DateTimeOffset Now => Time.GetUtcNow();

    private static string WriteAuditKey()
    {
        var path = Path.Combine(Path.GetTempPath(), $"agentsec-ai-test-audit-{Environment.ProcessId}.key");
        File.WriteAllText(path, TestKeys.FromByte(0xAD).ToKeyFileJson());
        return path;
    }

    public async Task InitializeAsync()
    {
        var builder = new TestClusterBuilder(1);
        builder.AddSiloBuilderConfigurator<SiloConfigurator>();
        builder.AddClientBuilderConfigurator<ClientConfigurator>();
        Cluster = builder.Build();
        await Cluster.DeployAsync();
        Client = new AgentSecurityClient(Cluster.Client);
    }

    public async Task DisposeAsync()
    {
        await Cluster.StopAllSilosAsync();
        await Cluster.DisposeAsync();
    }

    /// <summary>A fresh tenant rooted at <see cref="TestKeys.Root"/> whose agent <c>bot</c> has <paramref name="grant"/>.</summary>
    public async Task<(string Tenant, IAgentGrain Bot)> AgentAsync(Func<string, DocumentTemplate> grant)
    {
        var tenant = $"ai{Interlocked.Increment(ref _tenants)}-{Guid.NewGuid():N}"[..20];
        var created = await Client.CreateTenantAsync(TestDocuments.Tenant(tenant, Now, TestKeys.Root.Did.Value).SignWith(TestKeys.Operator));
        Assert.True(created.Created, $"{created.Error}: {created.Message}");
        var applied = await Client.ApplyGrantAsync(grant(tenant).SignWith(TestKeys.Root));
        Assert.True(applied.Applied, $"{applied.Error}: {applied.Message}");
        return (tenant, Client.Agent(tenant, "bot"));
    }

    /// <summary>The tenant's events once <paramref name="until"/> holds for them (the log is written after a call returns).</summary>
    public async Task<IReadOnlyList<SecurityEvent>> EventsAsync(string tenant, Func<IReadOnlyList<SecurityEvent>, bool> until) =>
        await AuditLog.WaitForEventsAsync(tenant, until, TimeSpan.FromSeconds(15));

    private sealed class ClientConfigurator : IClientBuilderConfigurator
    {
        public void Configure(Microsoft.Extensions.Configuration.IConfiguration configuration, IClientBuilder client) =>
            client.AddMemoryStreams(AuditStreams.ProviderName).UseAgentSecuritySession(TestKeys.Operator, time: Time);
    }

    private sealed class SiloConfigurator : ISiloConfigurator
    {
        public void Configure(ISiloBuilder silo)
        {
            silo.AddAgentSecurity(o => o.OperatorDid = TestKeys.Operator.Did.Value);
            silo.Services.AddKeyedSingleton<IGrainStorage>(StorageNames.Grains, TestGrainStorage.Shared);
            silo.Services.AddKeyedSingleton<IGrainStorage>(StorageNames.Issuers, TestGrainStorage.Shared);
            silo.Services.AddKeyedSingleton<TimeProvider>(KernelClock.ServiceKey, Time);
            silo.Services.AddSingleton<IAgentMemoryStore>(TestAgentMemoryStore.Shared);
            silo.Services.AddSingleton<IAuditLogStore>(TestAuditLogStore.Shared);
            silo.AddMemoryGrainStorage("PubSubStore");
            silo.AddMemoryStreams(AuditStreams.ProviderName);
            silo.Services.Configure<AuditOptions>(o => o.KeyFile = AuditKeyFile);

            // The test cluster's own plumbing, which its client calls while it starts.
            silo.Services.Configure<AgentSecurity.Grains.Boundary.BoundaryOptions>(o => o.ClientInfrastructure.Add("Orleans.Runtime.TestHooks.ITestHooks"));
        }
    }
}

[CollectionDefinition(Name)]
public sealed class KernelCollection : ICollectionFixture<KernelFixture>
{
    public const string Name = "kernel";
}

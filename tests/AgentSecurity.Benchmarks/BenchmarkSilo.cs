using AgentSecurity.Abstractions.Audit;
using AgentSecurity.Grains;
using AgentSecurity.Grains.Audit;
using AgentSecurity.Grains.Execution;
using AgentSecurity.Grains.Memory;
using AgentSecurity.Hosting;
using AgentSecurity.Testing;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Storage;
using Orleans.TestingHost;

namespace AgentSecurity.Benchmarks;

/// <summary>
/// An in-process silo for benchmarks: the kernel with storage that keeps nothing (Orleans' memory storage would hold a
/// second copy of every state in the heap being measured, which no real deployment has) and no agent memory.
/// Agents' workspaces go where the cluster builder's property <c>WorkspaceRoot</c> says, if it says.
/// </summary>
internal sealed class BenchmarkSilo : ISiloConfigurator
{
    public void Configure(ISiloBuilder silo)
    {
        silo.AddAgentSecurity(o => o.OperatorDid = TestKeys.Operator.Did.Value);
        silo.AddAgentSecuritySandboxes();
        if (silo.Configuration["WorkspaceRoot"] is { } workspaces)
        {
            silo.Services.Configure<SandboxOptions>(o => o.WorkspaceRoot = workspaces);
        }

        // The test cluster's own plumbing, which the kernel's boundary otherwise refuses to any client.
        silo.Services.Configure<AgentSecurity.Grains.Boundary.BoundaryOptions>(o => o.ClientInfrastructure.Add("Orleans.Runtime.TestHooks.ITestHooks"));
        silo.Services.AddKeyedSingleton<IGrainStorage>(StorageNames.Grains, new DiscardingStorage());
        silo.Services.AddKeyedSingleton<IGrainStorage>(StorageNames.Issuers, new DiscardingStorage());
        silo.Services.AddSingleton<IAgentMemoryStore, NoMemoryStore>();
        silo.Services.AddSingleton<AuditEvents, DiscardingAuditEvents>();
    }
}

internal sealed class DiscardingStorage : IGrainStorage
{
    public Task ReadStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState) => Task.CompletedTask;

    public Task WriteStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        grainState.ETag = "1";
        grainState.RecordExists = true;
        return Task.CompletedTask;
    }

    public Task ClearStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState) => Task.CompletedTask;
}

/// <summary>
/// Events go nowhere: the benchmarks measure the agents, not the audit pipeline. Without a stream to take them, every
/// agent would keep its events in its outbox and a timer to retry them, which no deployment does once its queue answers.
/// </summary>
internal sealed class DiscardingAuditEvents(
    [FromKeyedServices(KernelClock.ServiceKey)] TimeProvider time,
    ILocalSiloDetails silo,
    IClusterClient client,
    Microsoft.Extensions.Options.IOptions<AuditOptions> options,
    AgentSecurity.Grains.Telemetry.AgentSecurityMetrics metrics) : AuditEvents(time, silo, client, options, metrics)
{
    public override Task PublishAsync(string tenantId, IReadOnlyList<SecurityEvent> events) => Task.CompletedTask;
}

/// <summary>The benchmark stores no agent memory.</summary>
internal sealed class NoMemoryStore : IAgentMemoryStore
{
    public Task<IReadOnlyDictionary<string, long>> ListAsync(string agent, CancellationToken cancellation = default) =>
        Task.FromResult<IReadOnlyDictionary<string, long>>(new Dictionary<string, long>());

    public Task<byte[]?> GetAsync(string agent, string key, CancellationToken cancellation = default) => Task.FromResult<byte[]?>(null);

    public Task PutAsync(string agent, string key, byte[] value, CancellationToken cancellation = default) => Task.CompletedTask;

    public Task DeleteAsync(string agent, string key, CancellationToken cancellation = default) => Task.CompletedTask;
}

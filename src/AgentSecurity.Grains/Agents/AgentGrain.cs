using AgentSecurity.Abstractions.Kernel;
using AgentSecurity.Abstractions;
using AgentSecurity.Grains.Audit;
using AgentSecurity.Grains.Execution;
using AgentSecurity.Grains.Memory;
using AgentSecurity.Grains.Outbox;
using AgentSecurity.Grains.Permissions;
using AgentSecurity.Grains.Quarantine;
using AgentSecurity.Grains.Quotas;
using AgentSecurity.Grains.Telemetry;
using AgentSecurity.Grains.Tools;
using AgentSecurity.Abstractions.Tools;
using AgentSecurity.Grants;
using AgentSecurity.Grants.Capabilities;
using AgentSecurity.Grants.Policy;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Core;
using Orleans.Serialization;
using Orleans.Storage;

namespace AgentSecurity.Grains.Agents;

/// <summary>
/// One agent: the single writer of its grant, elevations and status, and the decision point of everything it attempts.
/// A shell over focused parts: <see cref="AgentPermissions"/> decides from memory, <see cref="AgentMetering"/> meters,
/// <see cref="AgentAudit"/> records, <see cref="AgentGrants"/> changes what the agent may do, <see cref="AgentMemory"/>,
/// <see cref="AgentExecutions"/> and <see cref="AgentQuarantine"/> do what their names say. Every state change goes
/// through one <see cref="StateOutbox{TState}"/>. Grants are verified once, by the tenant's issuer, when applied (and
/// re-verified when loaded from storage); a check is a lookup in memory.
/// </summary>
public sealed class AgentGrain : Grain, IAgentGrain, IAgentKernelGrain, IAgentDecisions, IAgentParts
{
    private readonly AgentContext _agent;
    private readonly StateOutbox<AgentGrainState> _outbox;
    private readonly AgentPermissions _permissions = new();
    private readonly AgentAudit _audit;
    private readonly AgentMetering _metering;
    private readonly AgentGrants _grants;

    // Made by their first use: most agents check and never run code, use memory or tools, or get quarantined while
    // active, and each part is an object of its own (bytes per active agent count). Their services are the silo's.
    private AgentMemory? _memory;
    private AgentExecutions? _executions;
    private AgentQuarantine? _quarantine;
    private AgentTools? _tools;

    public AgentGrain(
        [FromKeyedServices(StorageNames.Grains)] IGrainStorage storage,
        DeepCopier<AgentGrainState> copier,
        [FromKeyedServices(KernelClock.ServiceKey)] TimeProvider time,
        IOptions<AgentSecurityOptions> options,
        IOptions<AuditOptions> auditOptions,
        AuditEvents events,
        IGrainFactory grains,
        AgentSecurityMetrics metrics,
        ILogger<AgentGrain> logger)
    {
        // The silo's one AgentServices when the host registered it (AddAgentSecurity does); else this agent's own.
        _agent = new AgentContext(this.GetPrimaryKeyString(), ServiceProvider.GetService<AgentServices>() ?? new AgentServices(grains, time, options, events, metrics, logger));

        // The services of the parts made on first use, asked for now though not kept: a silo without one fails the
        // activation, as when they were constructor parameters, rather than a check that needs the part throwing.
        _ = ServiceProvider.GetRequiredService<IAgentMemoryStore>();
        _ = ServiceProvider.GetRequiredService<ExecutionServices>();
        _ = ServiceProvider.GetRequiredService<PlatformLimits>();

        // The storage bridge without [PersistentState]'s lifecycle participation (an observer, its lists and the grain's
        // lifecycle, per activation): the state is read in OnActivateAsync instead, before anything uses it, and an
        // activation whose read fails fails as before. A migrated activation reads its state from storage again.
        // Held by the outbox alone (the grain reads through it), not by a field of the grain's too.
        var state = new StateStorageBridge<AgentGrainState>(StateName, GrainContext, storage);
        _outbox = new StateOutbox<AgentGrainState>(this, state, copier, events, _agent.TenantId, logger, static (log, e, key) => Log.AgentNotPersisted(log, e, key));
        _audit = new AgentAudit(_agent, this, auditOptions.Value, _permissions, _outbox);
        _metering = new AgentMetering(_agent, _outbox);
        _grants = new AgentGrants(_agent, _outbox, _permissions, _audit, _metering, this);
    }

    /// <summary>The name of the agent's record in grain storage, as <c>[PersistentState]</c> named it.</summary>
    internal const string StateName = "agent";

    private AgentMemory Memory => _memory ??= new AgentMemory(_agent, ServiceProvider.GetRequiredService<IAgentMemoryStore>(), ServiceProvider.GetRequiredService<PlatformLimits>(), _permissions, _audit, _metering, this);

    private AgentExecutions Executions => _executions ??= new AgentExecutions(
        _agent, this.AsReference<IAgentGrain>(), GrainContext, _permissions, _audit, _metering, ServiceProvider.GetRequiredService<ExecutionServices>(), ServiceProvider.GetRequiredService<PlatformLimits>());

    private AgentQuarantine Quarantine => _quarantine ??= new AgentQuarantine(_agent, _outbox, _permissions, this);

    private AgentTools Tools => _tools ??= new AgentTools(_agent, _permissions, _audit, _grants, this);

    AgentExecutions? IAgentParts.ExecutionsIfAny => _executions;

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        await _outbox.ReadAsync();
        await _outbox.FlushAsync();
        await _grants.LoadAsync();
    }

    public override async Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        // The local path of host calls ends first: whatever stopping the code throws (a token's callback), no sandbox
        // thread goes on allowing on this activation's picture while a new activation may be revoking or quarantining.
        _executions?.EndHostCalls();
        try
        {
            // Code must not run on for an agent whose kill switch the next activation could not reach.
            _executions?.StopAll(ReasonCodes.Unavailable, "the agent's activation ended");
        }
        finally
        {
            await _audit.PublishSummariesAsync(cancellationToken);
            if (_permissions.Problem is null)
            {
                await _metering.SaveUsageAsync();
            }
        }
    }

    /// <summary>The DID the agent's active grant names, read by the trust boundary in this grain's turn: that principal may check and ask for it.</summary>
    internal string? AgentDid => _permissions.Active?.AgentDid;

    public Task<Decision> CheckAsync(CheckRequest request) =>
        KernelTracing.Enabled && KernelTracing.SampleCheck(_agent.Options.CheckTraceSampleEvery) ? CheckTracedAsync(request) : DecideAsync(request);

    /// <summary>A sampled check: a span over the decision, metering and recording (a denial not sampled gets one when recorded).</summary>
    private async Task<Decision> CheckTracedAsync(CheckRequest request)
    {
        using var activity = KernelTracing.Start(KernelTracing.Check);
        KernelTracing.TagAgent(activity, _agent.TenantId, _agent.AgentId);
        KernelTracing.TagRequest(activity, request);
        var decision = await DecideAsync(request);
        KernelTracing.TagDecision(activity, decision);
        return decision;
    }

    public Task<Explanation> ExplainAsync(CheckRequest request) => Task.FromResult(_permissions.Explain(request, _agent.Now, _agent.Key));

    public Task<Explanation> WhatIfAsync(CheckRequest request, string proposedGrant) =>
        Task.FromResult(AgentPermissions.WhatIf(request, proposedGrant, _agent.Now, _agent.Options.ClockSkew));

    public async Task<ToolCallDecision> CheckToolCallAsync(ToolCall toolCall)
    {
        using var activity = KernelTracing.Enabled ? KernelTracing.Start(KernelTracing.ToolCall) : null;
        KernelTracing.TagAgent(activity, _agent.TenantId, _agent.AgentId);
        activity?.SetTag(KernelTracing.ResourceAttribute, toolCall?.Tool);
        var decision = await Tools.CheckAsync(toolCall);
        KernelTracing.TagDecision(activity, decision.Decision);
        return decision;
    }

    public async Task<Decision> ChargeUsageAsync(CheckRequest usage)
    {
        var request = usage ?? new CheckRequest(Capabilities.Llm);
        return await _audit.RecordAsync(request, await _metering.ChargeAsync(request, _permissions.Active?.GrantId, _agent.Now));
    }

    public Task<bool[]> SelectVisibleToolsAsync(IReadOnlyList<ToolListing> tools) => Task.FromResult(Tools.SelectVisible(tools));

    public Task<bool[]> SelectAllowedAsync(IReadOnlyList<CheckRequest> requests) => Task.FromResult(Tools.SelectAllowed(requests));

    public Task RecordToolChangedAsync(ToolListing before, ToolListing after) => Tools.RecordChangedAsync(before, after);

    public async Task<ApplyGrantResult> ApplyGrantAsync(string signedGrant)
    {
        using var activity = KernelTracing.Enabled ? KernelTracing.Start(KernelTracing.GrantApply) : null;
        KernelTracing.TagAgent(activity, _agent.TenantId, _agent.AgentId);
        var result = await WhileChangingAsync(() => _grants.ApplyAsync(signedGrant));
        activity?.SetTag(KernelTracing.GrantAttribute, result.GrantId);
        activity?.SetTag(KernelTracing.ReasonAttribute, result.Error ?? ReasonCodes.Allowed);
        return result;
    }

    public Task<ApplyGrantResult> ApplyElevationAsync(string requestId, string signedGrant) => WhileChangingAsync(() => _grants.ApplyElevationAsync(requestId, signedGrant));

    public Task<PermissionRequestResult> RequestPermissionAsync(PermissionRequestInput request) => _grants.RequestAsync(request);

    public async Task NotifyRevokedAsync(string grantId)
    {
        using var activity = KernelTracing.Enabled ? KernelTracing.Start(KernelTracing.RevocationNotice) : null;
        KernelTracing.TagAgent(activity, _agent.TenantId, _agent.AgentId);
        activity?.SetTag(KernelTracing.GrantAttribute, grantId);
        await WhileChangingAsync(async () =>
        {
            await _grants.NotifyRevokedAsync(grantId);
            return true;
        });
    }

    public Task<string?> GetActiveGrantAsync(string grantId) => Task.FromResult(_grants.ActiveGrantText(grantId));

    public Task NotifyTenantLimitsChangedAsync()
    {
        _metering.ExpireTenantLimits();
        return Task.CompletedTask;
    }

    public Task<QuarantineResult> QuarantineAsync(string signedQuarantine) => WhileChangingAsync(() => Quarantine.ApplyAsync(signedQuarantine));

    public Task<QuarantineResult> QuarantineByRuleAsync(string rule, string reason) => WhileChangingAsync(() => Quarantine.ApplyRuleAsync(rule, reason));

    /// <summary>
    /// A turn that may change what decides, and awaits (the issuer, storage, the outbox's events) before it does: host
    /// calls are not allowed on the local path meanwhile, they wait for the grain, which decides them after the turn,
    /// as before there was a local path (see <see cref="AgentPermissions.BeginChange"/>).
    /// </summary>
    private async Task<T> WhileChangingAsync<T>(Func<Task<T>> change)
    {
        _permissions.BeginChange();
        try
        {
            return await change();
        }
        finally
        {
            _permissions.EndChange();
        }
    }

    public Task<MemoryResult> GetMemoryAsync(string key) => Memory.GetAsync(key);

    public Task<MemoryResult> PutMemoryAsync(string key, byte[] value) => Memory.PutAsync(key, value);

    public Task<MemoryResult> DeleteMemoryAsync(string key) => Memory.DeleteAsync(key);

    public Task<MemoryResult> ListMemoryAsync(string? prefix) => Memory.ListAsync(prefix);

    public async Task<ExecutionResult> ExecuteAsync(ExecutionRequest request)
    {
        using var activity = KernelTracing.Enabled ? KernelTracing.Start(KernelTracing.Execution) : null;
        KernelTracing.TagAgent(activity, _agent.TenantId, _agent.AgentId);
        activity?.SetTag(KernelTracing.RuntimeAttribute, request?.Runtime);
        var result = await Executions.ExecuteAsync(request!); // as before: a null request is refused there
        activity?.SetTag(KernelTracing.ReasonAttribute, result.Error ?? ReasonCodes.Allowed);
        return result;
    }

    public Task<ServerAdmission> AdmitServerAsync(string server) => Executions.AdmitServerAsync(server);

    public Task PingAsync() => Task.CompletedTask;

    public Task<AgentStatus> GetStatusAsync()
    {
        var now = _agent.Now;
        var active = _permissions.Active;
        var state = _outbox.State;
        return Task.FromResult(new AgentStatus
        {
            Agent = _agent.Key,
            State = _permissions.State,
            GrantId = active?.GrantId,
            Version = state.Version,
            SignedBy = active?.SignedBy,
            NotBefore = active?.NotBefore,
            ExpiresAt = active?.ExpiresAt,
            PreviousGrantIds = state.PreviousGrantIds.ToArray(),
            Problem = _permissions.Problem,
            Revoked = _permissions.IsActiveRevoked,
            ElevationGrantIds = _permissions.Elevations.Where(e => e.ExpiresAt > now && !_permissions.IsRevoked(e.GrantId)).Select(e => e.GrantId).ToArray(),
            QuarantineReason = _permissions.State == AgentState.Quarantined ? state.QuarantineReason : null,
        });
    }

    /// <summary>
    /// The decision path of checks and memory operations: the grant decides, the quotas meter (a denial consumes nothing,
    /// an allowed check consumes in the same turn), the audit records. Completes synchronously unless metering needs
    /// storage, the tenant or the memory store first.
    /// </summary>
    private Task<Decision> DecideAsync(CheckRequest request)
    {
        var pending = DecideAndMeterAsync(request, _agent.Now);
        return pending.IsCompletedSuccessfully ? _audit.RecordAsync(request, pending.Result) : RecordWhenDecidedAsync(request, pending);
    }

    Task<Decision> IAgentDecisions.DecideAsync(CheckRequest request) => DecideAsync(request);

    ValueTask<Decision> IAgentDecisions.DecideAndMeterAsync(CheckRequest request, DateTimeOffset now) => DecideAndMeterAsync(request, now);

    private async Task<Decision> RecordWhenDecidedAsync(CheckRequest request, ValueTask<Decision> pending) =>
        await _audit.RecordAsync(request, await pending);

    private ValueTask<Decision> DecideAndMeterAsync(CheckRequest request, DateTimeOffset now)
    {
        var decision = _permissions.Decide(request, now, _agent.Key, out var kind);
        if (!decision.Allowed)
        {
            return ValueTask.FromResult(decision);
        }

        return kind == CheckKind.MemoryWrite && request.Amount is { } bytes
            ? MeterMemoryWriteAsync(decision, bytes, now)
            : _metering.MeterAsync(decision, kind, request.Amount, now);
    }

    /// <summary>A memory write that says its size is held to the memory store's limits before the quotas meter it.</summary>
    private ValueTask<Decision> MeterMemoryWriteAsync(Decision allowed, long bytes, DateTimeOffset now)
    {
        // Once the agent's memory index is read, the limits are known in this turn: no state machine per check.
        var limits = Memory.CheckWriteAsync(bytes);
        return limits.IsCompletedSuccessfully
            ? MeterMemoryWrite(limits.Result, allowed, bytes, now)
            : MeterMemoryWriteWhenCheckedAsync(limits, allowed, bytes, now);
    }

    private async ValueTask<Decision> MeterMemoryWriteWhenCheckedAsync(ValueTask<Failure?> limits, Decision allowed, long bytes, DateTimeOffset now) =>
        await MeterMemoryWrite(await limits, allowed, bytes, now);

    private ValueTask<Decision> MeterMemoryWrite(Failure? tooMuch, Decision allowed, long bytes, DateTimeOffset now) => tooMuch is null
        ? _metering.MeterAsync(allowed, CheckKind.MemoryWrite, bytes, now)
        : ValueTask.FromResult(Decision.Deny(tooMuch.Code, tooMuch.Message, allowed.GrantId));
}

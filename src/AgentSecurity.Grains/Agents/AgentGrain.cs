using AgentSecurity.Abstractions;
using AgentSecurity.Abstractions.Audit;
using AgentSecurity.Grains.Audit;
using AgentSecurity.Grains.Execution;
using AgentSecurity.Grains.Memory;
using AgentSecurity.Grains.Telemetry;
using AgentSecurity.Grants;
using AgentSecurity.Grants.Capabilities;
using AgentSecurity.Grants.Documents;
using AgentSecurity.Grants.Policy;
using AgentSecurity.Grants.Quotas;
using AgentSecurity.Grants.Verification;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace AgentSecurity.Grains.Agents;

/// <summary>
/// One agent: the single writer of its grant, elevations and status, and the decision point of its checks. Grants are
/// verified once, by the tenant's issuer, when applied (and re-verified when loaded from storage); a check is a
/// lookup in memory.
/// </summary>
public sealed partial class AgentGrain : Grain, IAgentGrain
{
    private const int MaxElevations = 8;

    /// <summary>How many grants issued in the same second may replace one another on one agent.</summary>
    public const int MaxReplacementsInOneSecond = 64;
    private const int MaxJustificationLength = 512;

    private readonly IPersistentState<AgentGrainState> _state;
    private readonly TimeProvider _time;
    private readonly AgentSecurityOptions _options;
    private readonly ILogger<AgentGrain> _logger;
    private readonly AgentPermissions _permissions = new();
    private readonly AgentQuotas _quotas = new();
    private readonly IAgentMemoryStore _memory;
    private readonly AuditEvents _audit;
    private readonly AuditOptions _auditOptions;
    private readonly ExecutionServices _executions;
    private readonly PlatformLimits _platform;

    // The agent's memory keys with their sizes, read from the store on the first memory operation.
    private Dictionary<string, long>? _memoryIndex;

    private string _key = string.Empty;
    private string _tenantId = string.Empty;
    private string _agentId = string.Empty;
    private bool _validKey;

    // The background write of the next chunks of the agent's quota reservations, while one is under way.
    private Task? _renewal;

    public AgentGrain(
        [PersistentState("agent", StorageNames.Grains)] IPersistentState<AgentGrainState> state,
        [FromKeyedServices(KernelClock.ServiceKey)] TimeProvider time,
        IOptions<AgentSecurityOptions> options,
        IAgentMemoryStore memory,
        AuditEvents audit,
        IOptions<AuditOptions> auditOptions,
        ExecutionServices executions,
        PlatformLimits platform,
        ILogger<AgentGrain> logger)
    {
        _executions = executions;
        _platform = platform;
        _audit = audit;
        _auditOptions = auditOptions.Value;
        _state = state;
        _time = time;
        _options = options.Value;
        _memory = memory;
        _logger = logger;
    }

    private AgentGrainState State => _state.State;

    private IGrantIssuerGrain Issuer => GrainFactory.GetGrain<IGrantIssuerGrain>(_tenantId);

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        _key = this.GetPrimaryKeyString();
        _validKey = AgentKey.TryParse(_key, out _tenantId, out _agentId);
        _permissions.State = State.State;
        if (State.GrantDocument is { } stored)
        {
            _permissions.Active = LoadStored(stored, "grant");
            _quotas.Configure(_permissions.Active?.Limits ?? ResourceLimits.None, State.Quotas);
        }

        _permissions.SetElevations(State.Elevations.Select(e => LoadStored(e, "elevation")).OfType<ActiveGrant>());

        await FlushOutboxAsync();

        // Storage is not trusted on its own: the issuer confirms each live grant read back (same content, accepted by
        // the tenant) and says which were revoked while this agent was not active.
        var now = _time.GetUtcNow();
        var live = new[] { _permissions.Active }.Concat(_permissions.Elevations).OfType<ActiveGrant>().Where(g => g.ExpiresAt > now).ToList();
        if (live.Count > 0)
        {
            var statuses = await Issuer.ConfirmStoredGrantsAsync(live.Select(g => new StoredGrantRef(g.GrantId, g.ContentHash)).ToArray());
            foreach (var status in statuses)
            {
                if (status.State == StoredGrantState.Revoked)
                {
                    _permissions.MarkRevoked(status.GrantId);
                }
                else if (status.State == StoredGrantState.Unknown)
                {
                    _permissions.Problem = $"the stored grant {status.GrantId} is not one the tenant accepted; apply a grant again";
                    Log.StoredGrantRejected(_logger, _key, _permissions.Problem);
                }
            }
        }
    }

    public override async Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        // Code must not run on for an agent whose kill switch the next activation could not reach.
        StopExecutions(ReasonCodes.Unavailable, "the agent's activation ended");
        await PublishSummariesAsync(cancellationToken);

        // A clean stop records what was really used, so the next activation does not count unspent reservations.
        await WaitForRenewalAsync();
        var snapshot = _quotas.Snapshot(_time.GetUtcNow()).ToList();
        if (snapshot.Count == 0 || _permissions.Problem is not null)
        {
            return;
        }

        snapshot.ForEach(s => State.Quotas[s.Limit] = s.Record);
        try
        {
            await _state.WriteStateAsync(cancellationToken);
        }
#pragma warning disable CA1031 // Best effort: the last reservation written already bounds what was spent.
        catch (Exception e)
#pragma warning restore CA1031
        {
            Log.QuotaNotPersisted(_logger, e, _key);
        }
    }

    public Task<AgentStatus> GetStatusAsync() => Task.FromResult(new AgentStatus
    {
        Agent = _key,
        State = _permissions.State,
        GrantId = _permissions.Active?.GrantId,
        Version = State.Version,
        SignedBy = _permissions.Active?.SignedBy,
        NotBefore = _permissions.Active?.NotBefore,
        ExpiresAt = _permissions.Active?.ExpiresAt,
        PreviousGrantIds = State.PreviousGrantIds.ToArray(),
        Problem = _permissions.Problem,
        Revoked = _permissions.IsActiveRevoked,
        ElevationGrantIds = _permissions.Elevations.Where(e => e.ExpiresAt > _time.GetUtcNow() && !_permissions.IsRevoked(e.GrantId)).Select(e => e.GrantId).ToArray(),
        QuarantineReason = _permissions.State == AgentState.Quarantined ? State.QuarantineReason : null,
    });

    public Task PingAsync() => Task.CompletedTask;

    /// <summary>
    /// Applies a change, writes it with its security events (the outbox), and undoes both if the write fails:
    /// nothing half-applied. Once written, the events are published before the caller hears of the change.
    /// </summary>
    private async Task<bool> CommitAsync(Action<AgentGrainState> change, Action<AgentGrainState> undo, params SecurityEvent[] events)
    {
        // Requests do not interleave with each other here; a background quota reservation is the one other writer.
        await WaitForRenewalAsync();
        return await WriteAsync(change, undo, events);
    }

    /// <summary>Waits for a quota reservation being written in the background, if any (it never throws).</summary>
    private Task WaitForRenewalAsync() => _renewal ?? Task.CompletedTask;

    private async Task<bool> WriteAsync(Action<AgentGrainState> change, Action<AgentGrainState> undo, params SecurityEvent[] events)
    {
        change(State);
        var pending = events.Select(SecurityEventJson.Write).ToList();
        State.PendingEvents.AddRange(pending);
        try
        {
            await _state.WriteStateAsync();
            await FlushOutboxAsync();
            return true;
        }
#pragma warning disable CA1031 // Any storage failure refuses the change; the caller gets unavailable.
        catch (Exception e)
#pragma warning restore CA1031
        {
            undo(State);
            pending.ForEach(p => State.PendingEvents.Remove(p));
            Log.GrantNotPersisted(_logger, e, _key);
            DeactivateOnIdle(); // the stored ETag may be stale now; a fresh activation reads the truth
            return false;
        }
    }
}

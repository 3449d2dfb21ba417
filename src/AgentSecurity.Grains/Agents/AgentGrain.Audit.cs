using AgentSecurity.Abstractions;
using AgentSecurity.Abstractions.Audit;
using AgentSecurity.Grains.Telemetry;
using AgentSecurity.Grants;

namespace AgentSecurity.Grains.Agents;

/// <summary>
/// What the agent tells its tenant's audit stream. Denials are published one by one before the call returns; allowed
/// checks are counted per capability and published as one summary per interval; state changes travel in an outbox
/// written with the change. Agents that never had a grant publish nothing: probing unknown agents must not be able to
/// grow a tenant's log or make logs for tenants that do not exist.
/// </summary>
public sealed partial class AgentGrain
{
    private readonly Dictionary<string, (long Count, string? GrantId)> _allowed = new(StringComparer.Ordinal);
    private IGrainTimer? _summaryTimer;
    private IGrainTimer? _outboxRetry;

    /// <summary>How often an outbox that could not be published is tried again while the grain is active.</summary>
    private static readonly TimeSpan OutboxRetryInterval = TimeSpan.FromSeconds(5);

    /// <summary>Whether this agent's events belong in its tenant's log: it has, or had, a grant.</summary>
    private bool Audited => _validKey && (_permissions.Active is not null || State.Version > 0);

    /// <summary>The decision path of checks and memory operations, with its audit: fast when allowed.</summary>
    private Task<Decision> DecideAuditedAsync(CheckRequest request)
    {
        var pending = DecideAndMeter(request, _time.GetUtcNow());
        return pending.IsCompletedSuccessfully ? AuditedAsync(request, pending.Result) : CompleteAsync(request, pending);

        async Task<Decision> CompleteAsync(CheckRequest r, ValueTask<Decision> p) => await AuditedAsync(r, await p);
    }

    private Task<Decision> AuditedAsync(CheckRequest request, Decision decision)
    {
        AgentSecurityMetrics.RecordCheck(decision.Reason);
        if (decision.Allowed)
        {
            if (Audited)
            {
                CountAllowed(request.Capability, decision.GrantId);
            }

            return Task.FromResult(decision);
        }

        return Audited ? RecordDenialAsync(request, decision) : Task.FromResult(decision);
    }

    /// <summary>A denial is on the tenant's stream before the caller hears of it; if it cannot be, the answer is unavailable.</summary>
    private async Task<Decision> RecordDenialAsync(CheckRequest request, Decision decision)
    {
        var quota = decision.Reason is ReasonCodes.QuotaExceeded or ReasonCodes.RateLimited;
        try
        {
            await _audit.PublishAsync(_tenantId, [_audit.Stamp(new DecisionEvent
            {
                Id = string.Empty,
                Type = quota ? SecurityEventTypes.QuotaExceeded : SecurityEventTypes.CheckDenied,
                TenantId = _tenantId,
                AgentId = _agentId,
                Capability = request.Capability ?? string.Empty,
                Resource = request.Resource,
                GrantId = decision.GrantId,
                Reason = decision.Reason,
                Message = decision.Message,
            })]);
            return decision;
        }
#pragma warning disable CA1031 // A denial that cannot be recorded is still a denial: unavailable says the system is degraded.
        catch (Exception e)
#pragma warning restore CA1031
        {
            Log.AuditPublishFailed(_logger, e, _key);
            return Decision.Deny(ReasonCodes.Unavailable, $"denied ({decision.Reason}), and the denial could not be recorded", decision.GrantId);
        }
    }

    private void CountAllowed(string capability, string? grantId)
    {
        _allowed[capability] = (_allowed.GetValueOrDefault(capability).Count + 1, grantId);
        _summaryTimer ??= this.RegisterGrainTimer(PublishSummariesAsync, new GrainTimerCreationOptions(_auditOptions.AllowedSummaryInterval, _auditOptions.AllowedSummaryInterval) { Interleave = false });
    }

    /// <summary>Publishes the allowed-check counts of the last interval (their loss window is one interval).</summary>
    private async Task PublishSummariesAsync(CancellationToken cancellation)
    {
        if (_allowed.Count == 0)
        {
            _summaryTimer?.Dispose(); // nothing to count: let an idle agent deactivate
            _summaryTimer = null;
            return;
        }

        var summaries = _allowed.Select(p => (SecurityEvent)_audit.Stamp(new DecisionEvent
        {
            Id = string.Empty,
            Type = SecurityEventTypes.ChecksAllowed,
            TenantId = _tenantId,
            AgentId = _agentId,
            Capability = p.Key,
            GrantId = p.Value.GrantId,
            Count = p.Value.Count,
            Reason = ReasonCodes.Allowed,
        })).ToList();
        _allowed.Clear();
        try
        {
            await _audit.PublishAsync(_tenantId, summaries);
        }
#pragma warning disable CA1031 // Summaries are the part of the log allowed to be lost; the failure is logged.
        catch (Exception e)
#pragma warning restore CA1031
        {
            Log.AuditPublishFailed(_logger, e, _key);
        }
    }

    /// <summary>Publishes an event that changes no state (so it has no outbox); a failure is logged, the answer stands.</summary>
    private async Task PublishUnconditionallyAsync(SecurityEvent e)
    {
        try
        {
            await _audit.PublishAsync(_tenantId, [_audit.Stamp(e)]);
        }
#pragma warning disable CA1031 // The refusal stands; its event is logged as lost.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            Log.AuditPublishFailed(_logger, ex, _key);
        }
    }

    private AdministrativeEvent Administrative(string type, string? grantId = null, string? signer = null, string? reason = null, string? message = null) =>
        _audit.Stamp(new AdministrativeEvent
        {
            Id = string.Empty,
            Type = type,
            TenantId = _tenantId,
            AgentId = _agentId,
            GrantId = grantId,
            SignerDid = signer,
            Reason = reason,
            Message = message,
        });

    /// <summary>Publishes the outbox; what is published leaves it (persisted with the next write).</summary>
    private async Task FlushOutboxAsync()
    {
        if (State.PendingEvents.Count == 0)
        {
            return;
        }

        try
        {
            await _audit.PublishAsync(_tenantId, State.PendingEvents.Select(SecurityEventJson.Read).ToList());
            State.PendingEvents.Clear();
            _outboxRetry?.Dispose();
            _outboxRetry = null;
        }
#pragma warning disable CA1031 // The events stay in the (stored) outbox: retried while active, and by the next activation.
        catch (Exception e)
#pragma warning restore CA1031
        {
            Log.AuditPublishFailed(_logger, e, _key);
            _outboxRetry ??= this.RegisterGrainTimer(_ => FlushOutboxAsync(),
                new GrainTimerCreationOptions(OutboxRetryInterval, OutboxRetryInterval) { Interleave = false, KeepAlive = true });
        }
    }
}

using AgentSecurity.Abstractions;
using AgentSecurity.Abstractions.Audit;
using AgentSecurity.Grains.Agents;
using AgentSecurity.Grains.Outbox;
using AgentSecurity.Grains.Permissions;
using AgentSecurity.Grains.Telemetry;
using AgentSecurity.Grants;

namespace AgentSecurity.Grains.Audit;

/// <summary>
/// What an agent tells its tenant's audit stream besides its state changes (those travel in its outbox). Denials are
/// published one by one before the caller hears of them; allowed checks are counted per capability and published as one
/// summary per interval. Agents that never had a grant publish nothing: probing unknown agents must not be able to grow
/// a tenant's log or make logs for tenants that do not exist.
/// </summary>
internal sealed class AgentAudit(AgentContext agent, IGrainBase grain, AuditOptions options, AgentPermissions permissions, StateOutbox<AgentGrainState> outbox)
{
    /// <summary>Allowed tool calls wait at most this many before they are published in the caller's turn.</summary>
    private const int MaxBufferedToolCalls = 256;

    // Both are made by their first entry: most agents never call a tool, and an agent that checks is counted per capability
    // in a small list (a linear search over the few capabilities an agent uses): bytes per active agent count.
    private List<AllowedCount>? _allowed;
    private List<SecurityEvent>? _toolCalls;
    private IGrainTimer? _summaryTimer;

    // When the last summary was handed to the tenant's queue writer (the kernel clock's timestamp; 0: never), and whether
    // one was since the timer's last tick. The check that finds an interval gone since then hands the next one over in its
    // own turn, so counts wait for no timer while checks come: a timer's tick queues behind the checks of a loaded agent.
    private long _summaryBegun;
    private bool _begunSinceTick;

    /// <summary>Whether this agent's events belong in its tenant's log: it has, or had, a grant.</summary>
    public bool IsAudited => agent.IsValidKey && (permissions.Active is not null || outbox.State.Version > 0);

    /// <summary>Counts the decision and records it: an allowed check in the next summary, a denial on the stream now.</summary>
    public Task<Decision> RecordAsync(CheckRequest request, Decision decision)
    {
        var audited = IsAudited;
        if (audited && decision.Allowed)
        {
            // Into the checks metric with its summary (BeginSummaries): one measurement an interval, not one a check.
            CountAllowed(request.Capability, decision.GrantId, 1);
            return Task.FromResult(decision);
        }

        agent.Metrics.RecordCheck(decision.Reason);
        return audited ? RecordDenialAsync(request, decision) : Task.FromResult(decision);
    }

    /// <summary>
    /// Records <paramref name="count"/> allowed checks of one capability under one grant, decided for this grain off its
    /// turn (the host calls' local path), as that many <see cref="RecordAsync"/> of allowed checks would, in one step.
    /// Counted before anything that can fail (the summaries' timer), so a failure here loses no count.
    /// </summary>
    public void RecordAllowed(string capability, string? grantId, long count)
    {
        if (IsAudited)
        {
            CountAllowed(capability, grantId, count);
        }
        else
        {
            agent.Metrics.RecordAllowedChecks(count);
        }
    }

    /// <summary>A denial is on the tenant's stream before the caller hears of it; if it cannot be, the answer is unavailable.</summary>
    private async Task<Decision> RecordDenialAsync(CheckRequest request, Decision decision)
    {
        var quota = decision.Reason is ReasonCodes.QuotaExceeded or ReasonCodes.RateLimited;
        var started = System.Diagnostics.Stopwatch.GetTimestamp(); // a metric of real waiting, not the kernel's clock

        // A recorded decision always has a span when traces are exported: a denial whose check was not sampled gets
        // one now, over its recording, so that its event carries the span's trace and its record joins it.
        using var own = KernelTracing.Enabled && KernelTracing.CurrentKernelSpan() is null ? KernelTracing.Start(KernelTracing.Check) : null;
        if (own is not null)
        {
            KernelTracing.TagAgent(own, agent.TenantId, agent.AgentId);
            KernelTracing.TagRequest(own, request);
            KernelTracing.TagDecision(own, decision);
        }

        try
        {
            var denial = agent.Events.Stamp(new DecisionEvent
            {
                Id = string.Empty,
                Type = quota ? SecurityEventTypes.QuotaExceeded : SecurityEventTypes.CheckDenied,
                TenantId = agent.TenantId,
                AgentId = agent.AgentId,
                Capability = request.Capability ?? string.Empty,
                Resource = request.Resource,
                GrantId = decision.GrantId,
                Reason = decision.Reason,
                Message = decision.Message,
            });
            KernelTracing.TagEvent(KernelTracing.CurrentKernelSpan(), denial);
            await agent.Events.PublishAsync(agent.TenantId, [denial]);
            agent.Metrics.RecordDenialRecording(System.Diagnostics.Stopwatch.GetElapsedTime(started), recorded: true);
            return decision;
        }
#pragma warning disable CA1031 // A denial that cannot be recorded is still a denial: unavailable says the system is degraded.
        catch (Exception e)
#pragma warning restore CA1031
        {
            agent.Metrics.RecordDenialRecording(System.Diagnostics.Stopwatch.GetElapsedTime(started), recorded: false);
            Log.AuditPublishFailed(agent.Logger, e, agent.Key);
            return Decision.Deny(ReasonCodes.Unavailable, $"denied ({decision.Reason}), and the denial could not be recorded", decision.GrantId);
        }
    }

    /// <summary>
    /// Records a tool call: a refusal on the stream before the caller hears of it (or <c>unavailable</c>), an allowed
    /// call with the next summaries, each call its own <c>tool.called</c> event (its loss window is the summaries', so
    /// that a call does not wait for a queue write).
    /// </summary>
    public async Task<Decision> RecordToolAsync(ToolEvent e, Decision decision)
    {
        agent.Metrics.RecordCheck(decision.Reason);
        if (!IsAudited)
        {
            return decision;
        }

        var stamped = agent.Events.Stamp(e);
        KernelTracing.TagEvent(KernelTracing.CurrentKernelSpan(), stamped);
        if (decision.Allowed)
        {
            (_toolCalls ??= []).Add(stamped);
            if (_toolCalls.Count >= MaxBufferedToolCalls)
            {
                await PublishSummariesAsync(CancellationToken.None);
            }
            else
            {
                SummariseIfDue();
            }

            return decision;
        }

        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        try
        {
            await agent.Events.PublishAsync(agent.TenantId, [stamped]);
            agent.Metrics.RecordDenialRecording(System.Diagnostics.Stopwatch.GetElapsedTime(started), recorded: true);
            return decision;
        }
#pragma warning disable CA1031 // A refusal that cannot be recorded is still a refusal: unavailable says the system is degraded.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            agent.Metrics.RecordDenialRecording(System.Diagnostics.Stopwatch.GetElapsedTime(started), recorded: false);
            Log.AuditPublishFailed(agent.Logger, ex, agent.Key);
            return Decision.Deny(ReasonCodes.Unavailable, $"denied ({decision.Reason}), and the denial could not be recorded", decision.GrantId);
        }
    }

    private void CountAllowed(string capability, string? grantId, long count)
    {
        var allowed = _allowed ??= new List<AllowedCount>(1);
        for (var i = 0; i < allowed.Count; i++)
        {
            // Per grant too: the host calls' local path records its counts after the grain's own, so a grant replaced
            // meanwhile must not lend its id to calls another grant allowed.
            if (string.Equals(allowed[i].Capability, capability, StringComparison.Ordinal) && string.Equals(allowed[i].GrantId, grantId, StringComparison.Ordinal))
            {
                allowed[i] = new AllowedCount(capability, allowed[i].Count + count, grantId);
                SummariseIfDue();
                return;
            }
        }

        allowed.Add(new AllowedCount(capability, count, grantId));
        SummariseIfDue();
    }

    /// <summary>
    /// Hands the counts to the queue writer in this turn once an interval has gone since the last summary was handed over,
    /// without waiting for the write (an allowed check stays a lookup in memory); otherwise makes sure the timer will, should
    /// the agent go idle. So the counts a crash can lose are those counted since the last summary whose write had begun (all
    /// within one interval after it) and those of summaries whose write was still in flight (docs/durability.md).
    /// </summary>
    private void SummariseIfDue()
    {
        if (agent.Time.GetElapsedTime(_summaryBegun) >= options.AllowedSummaryInterval)
        {
            _ = BeginSummaries();
            return;
        }

        _summaryTimer ??= grain.RegisterGrainTimer(OnSummaryTimerAsync, new GrainTimerCreationOptions(options.AllowedSummaryInterval, options.AllowedSummaryInterval) { Interleave = false });
    }

    /// <summary>
    /// The timer is for an agent that went idle with counts pending: a tick after a summary the checks handed over leaves
    /// the next to them, and one that finds nothing pending ends the timer, so that an idle agent can deactivate.
    /// </summary>
    private Task OnSummaryTimerAsync(CancellationToken cancellation)
    {
        if (_allowed is not { Count: > 0 } && _toolCalls is not { Count: > 0 })
        {
            _summaryTimer?.Dispose();
            _summaryTimer = null;
        }
        else if (!_begunSinceTick)
        {
            _ = BeginSummaries();
        }

        _begunSinceTick = false;
        return Task.CompletedTask;
    }

    /// <summary>Publishes the allowed-check counts not yet published and waits for their write (their loss window is in docs/durability.md).</summary>
    public async Task PublishSummariesAsync(CancellationToken cancellation)
    {
        if (_allowed is not { Count: > 0 } && _toolCalls is not { Count: > 0 })
        {
            _summaryTimer?.Dispose(); // nothing to count: let an idle agent deactivate
            _summaryTimer = null;
            return;
        }

        await BeginSummaries();
    }

    /// <summary>
    /// Hands the pending counts and tool calls to the tenant's queue writer now, in order with this agent's other events;
    /// the task completes when their write has, and never fails: a failure is logged.
    /// </summary>
    private Task BeginSummaries()
    {
        // A summary stands for many checks, not the one whose span may be current: it carries no trace of its own.
        var traced = System.Diagnostics.Activity.Current;
        System.Diagnostics.Activity.Current = null;
        List<SecurityEvent> summaries;
        long allowedChecks = 0;
        try
        {
            // A list of its own, not the tool calls' one: a stamp that throws midway must not leave summaries in it to be
            // published twice.
            summaries = new List<SecurityEvent>((_toolCalls?.Count ?? 0) + (_allowed?.Count ?? 0));
            summaries.AddRange(_toolCalls ?? []);
            foreach (var p in _allowed ?? [])
            {
                allowedChecks += p.Count;
                summaries.Add(agent.Events.Stamp(new DecisionEvent
                {
                    Id = string.Empty,
                    Type = SecurityEventTypes.ChecksAllowed,
                    TenantId = agent.TenantId,
                    AgentId = agent.AgentId,
                    Capability = p.Capability,
                    GrantId = p.GrantId,
                    Count = p.Count,
                    Reason = ReasonCodes.Allowed,
                }));
            }

            // The checks metric gets the allowed checks here, once an interval (RecordAsync), outside any one check's
            // trace; a failed write loses them from the log, not from the metric.
            agent.Metrics.RecordAllowedChecks(allowedChecks);
        }
#pragma warning disable CA1031 // Not the check's failure: the counts stay pending for the next summary, the failure is logged.
        catch (Exception e)
#pragma warning restore CA1031
        {
            Log.AuditPublishFailed(agent.Logger, e, agent.Key);
            return Task.CompletedTask;
        }
        finally
        {
            System.Diagnostics.Activity.Current = traced;
        }

        _allowed = null; // an agent idle after this holds no counts
        _toolCalls = null;
        _summaryBegun = agent.Time.GetTimestamp();
        _begunSinceTick = true;
        Task written;
        try
        {
            written = agent.Events.PublishAsync(agent.TenantId, summaries);
        }
#pragma warning disable CA1031 // Summaries are the part of the log allowed to be lost; the failure is logged.
        catch (Exception e)
#pragma warning restore CA1031
        {
            Log.AuditPublishFailed(agent.Logger, e, agent.Key);
            return Task.CompletedTask;
        }

        return written.IsCompletedSuccessfully ? written : LogFailureAsync(written, agent);

        // Not in the grain's turn: the write completes on the thread pool, and the check that began it has been answered.
        static async Task LogFailureAsync(Task written, AgentContext agent)
        {
            try
            {
                await written.ConfigureAwait(false);
            }
#pragma warning disable CA1031 // Summaries are the part of the log allowed to be lost; the failure is logged.
            catch (Exception e)
#pragma warning restore CA1031
            {
                Log.AuditPublishFailed(agent.Logger, e, agent.Key);
            }
        }
    }

    /// <summary>Publishes an event that changes no state (so it has no outbox); a failure is logged, the answer stands.</summary>
    public async Task PublishAsync(SecurityEvent e)
    {
        try
        {
            await agent.Events.PublishAsync(agent.TenantId, [agent.Events.Stamp(e)]);
        }
#pragma warning disable CA1031 // The refusal stands; its event is logged as lost.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            Log.AuditPublishFailed(agent.Logger, ex, agent.Key);
        }
    }

    private readonly record struct AllowedCount(string Capability, long Count, string? GrantId);
}

using AgentSecurity.Abstractions;
using AgentSecurity.Abstractions.Kernel;
using AgentSecurity.Grains.Agents;
using AgentSecurity.Grains.Outbox;
using AgentSecurity.Grains.Telemetry;
using AgentSecurity.Grants;
using AgentSecurity.Grants.Capabilities;
using AgentSecurity.Grants.Policy;
using AgentSecurity.Grants.Quotas;

namespace AgentSecurity.Grains.Quotas;

/// <summary>
/// Meters an agent's allowed checks against its grant's rate limits and its tenant's shared limits, in the turn that
/// decided them. Completes synchronously unless a limit needs storage (a reservation, about once per chunk) or the
/// tenant (a lease) first; a limit that runs low has its next chunk reserved in the background, so checks go on meanwhile.
/// </summary>
internal sealed class AgentMetering(AgentContext agent, StateOutbox<AgentGrainState> outbox)
{
    private readonly AgentQuotas _quotas = new();

    // The background write of the next chunks of the agent's reservations, while one is under way.
    private Task? _renewal;

    private int _version;

    /// <summary>
    /// Moves on with every change of what meters (a grant's limits, the tenant's limits): the local path of host calls
    /// reads it from the sandbox's threads. Written only in the grain's turns, after the change.
    /// </summary>
    public int Version => Volatile.Read(ref _version);

    /// <summary>
    /// Whether nothing meters this agent's checks of <paramref name="kind"/> until <paramref name="until"/> (when the
    /// tenant's limits are read again): then such an allowed check spends nothing, and may be decided off the grain.
    /// Read in the grain's turn.
    /// </summary>
    public bool IsUnmetered(CheckKind kind, out DateTimeOffset until)
    {
        until = _quotas.TenantLimitsRefreshAt;
        return _quotas.IsEmpty || !_quotas.Meters(kind);
    }

    private ITenantQuotaKernelGrain TenantQuota => agent.Grains.GetGrain<ITenantQuotaKernelGrain>(agent.TenantId);

    /// <summary>The tenant's limits changed: the next check reads them again, and the local path of host calls stops until it has.</summary>
    public void ExpireTenantLimits()
    {
        _quotas.ExpireTenantLimits();
        Changed();
    }

    /// <summary>Meters a grant's limits, starting from what storage says was used.</summary>
    public void Configure(ResourceLimits limits)
    {
        _quotas.Configure(limits, outbox.State.Quotas);
        Changed();
    }

    /// <summary>Meters a new grant's limits: consumption carries over, a new grant is not a fresh budget.</summary>
    public void Reconfigure(ResourceLimits limits)
    {
        _quotas.Configure(limits, _quotas.Snapshot(agent.Now).ToDictionary(s => s.Limit, s => s.Record));
        Changed();
    }

    /// <summary>Spends what an allowed check costs, or denies it (consuming nothing) when a limit does not let it through.</summary>
    public ValueTask<Decision> MeterAsync(Decision allowed, CheckKind kind, long? amount, DateTimeOffset now)
    {
        if (_quotas.TenantLimitsRefreshAt <= now)
        {
            agent.Metrics.RecordMeteringWait("refresh");
            return new ValueTask<Decision>(MeterSlowAsync(allowed, kind, amount, now));
        }

        if (_quotas.IsEmpty)
        {
            return ValueTask.FromResult(allowed);
        }

        var plan = _quotas.Plan(kind, amount, now);
        if (plan.DenialReason is not null)
        {
            return ValueTask.FromResult(Decision.Deny(plan.DenialReason, plan.DenialMessage!, allowed.GrantId));
        }

        if (plan.NeedsAwait)
        {
            agent.Metrics.RecordMeteringWait(plan.Reservations.Count > 0 ? "reservation" : "lease");
            return new ValueTask<Decision>(MeterSlowAsync(allowed, kind, amount, now));
        }

        Commit(plan, now);
        return ValueTask.FromResult(plan.Remaining is null ? allowed : allowed with { Remaining = plan.Remaining });
    }

    /// <summary>
    /// Charges tokens a model call really used (<see cref="IAgentGrain.ChargeUsageAsync"/>): past the budget if need be,
    /// reserved in storage first like any spending. A usage that is missing or negative spends the whole budget.
    /// </summary>
    public async Task<Decision> ChargeAsync(CheckRequest usage, string? grantId, DateTimeOffset now)
    {
        if (usage.Capability != Capabilities.Llm)
        {
            return Decision.Deny(ReasonCodes.InvalidRequest, $"only {Capabilities.Llm} usage is charged after the fact, not {usage.Capability}", grantId);
        }

        var bucket = _quotas.Own(MeteredLimit.LlmTokensPerHour);
        var refused = usage.Amount switch
        {
            null => Decision.Deny(ReasonCodes.UsageUnreported, "the model call reported no usage: charged the whole llmTokensPerHour", grantId),
            < 0 => Decision.Deny(ReasonCodes.InvalidRequest, $"a usage of {usage.Amount} tokens is negative: charged the whole llmTokensPerHour", grantId),
            _ => null,
        };
        if (bucket is null)
        {
            // Nothing meters the agent's tokens, so an unreported usage costs nothing either; it is not counted as a denial
            // (a provider that never reports usage must not quarantine its agents by the deny-burst rule).
            return refused is { Reason: ReasonCodes.InvalidRequest }
                ? refused
                : new Decision { Allowed = true, Reason = ReasonCodes.Allowed, Message = "no llmTokensPerHour meters this agent", GrantId = grantId };
        }

        // A usage nobody can read costs a whole period's budget: the next checks are refused until it refills.
        // What is in use stops at long.MaxValue (a budget spent for good): a charge past it would wrap what is stored to
        // a negative count, which a reactivation would read as nothing spent.
        var tokens = Math.Min(refused is null ? usage.Amount!.Value : bucket.Bucket.Limit, long.MaxValue - bucket.Bucket.Used(now));
        if (_renewal is { IsCompleted: false } renewal)
        {
            await renewal; // it changes what the bucket has reserved
        }

        var stored = true;
        if (bucket.NeedsReservation(tokens))
        {
            var record = bucket.ReservationFor(tokens, now);
            stored = await outbox.CommitAsync(s => s.SetQuota(MeteredLimit.LlmTokensPerHour.Name(), record));
            if (stored)
            {
                bucket.Reserved(record);
            }
        }

        // Charged here even when the reservation could not be stored: the tokens were spent, and the next reservation
        // this activation writes counts them (it starts from what is in use).
        bucket.Consume(tokens, bucket.Bucket.TatAfter(tokens, now));
        _ = bucket.Bucket.Fits(0, now, out var remaining);
        if (!stored)
        {
            return Decision.Deny(ReasonCodes.Unavailable, $"{tokens} tokens charged, but the charge could not be stored", grantId);
        }

        return refused ?? new Decision { Allowed = true, Reason = ReasonCodes.Allowed, Message = $"{tokens} tokens charged", GrantId = grantId, Remaining = remaining };
    }

    private async Task<Decision> MeterSlowAsync(Decision allowed, CheckKind kind, long? amount, DateTimeOffset now)
    {
        if (_quotas.TenantLimitsRefreshAt <= now)
        {
            var notices = _quotas.TenantLimitsNotices;
            _quotas.SetTenantLimits(await TenantQuota.ReadLimitsAsync(agent.AgentId), now + agent.Options.TenantLimitsRefreshInterval, notices);
            Changed();
        }

        // A plan of its own: this one is kept across awaits, while other agents plan on this thread.
        var plan = _quotas.Plan(kind, amount, now, new MeterPlan());
        if (plan.Reservations.Count > 0 && _renewal is { IsCompleted: false } renewal)
        {
            // A reservation is being written in the background: what it adds may spare this check a write of its own.
            await renewal;
            plan = _quotas.Plan(kind, amount, now, plan);
        }

        if (plan.DenialReason is not null)
        {
            return Decision.Deny(plan.DenialReason, plan.DenialMessage!, allowed.GrantId);
        }

        // The agent's own reservations before the tenant's leases: a reservation written for a check then denied is the
        // agent's to spend later, while a lease taken for one keeps the tenant's budget from its other agents until it lapses.
        if (plan.Reservations.Count > 0)
        {
            if (!await outbox.CommitAsync(s => plan.Reservations.ForEach(r => s.SetQuota(r.Limit.Name(), r.Record))))
            {
                return Decision.Deny(ReasonCodes.Unavailable, "the quota reservation could not be stored", allowed.GrantId);
            }

            _quotas.Reserved(plan);
        }

        foreach (var (limit, cost, toLease) in plan.Tenant.Where(t => t.ToLease > 0))
        {
            var lease = await TenantQuota.LeaseAsync(agent.AgentId, limit.Name(), _quotas.Shortfall(limit, cost, now), toLease, _quotas.TakeReturn(limit, now));
            if (lease.Error is not null)
            {
                return Decision.Deny(ReasonCodes.Unavailable, $"the tenant's {limit.Name()} could not be metered: {lease.Error}", allowed.GrantId);
            }

            if (!lease.Limited)
            {
                // The tenant no longer has this limit: read its limits again with the next check, not refuse on a stale list.
                ExpireTenantLimits();
                return Decision.Deny(ReasonCodes.Unavailable, "the tenant's shared limits changed; try again", allowed.GrantId); // not a quota denial: no rule counts it
            }

            _quotas.AddLease(limit, lease, now);
            if (!_quotas.HasLeased(limit, cost, now))
            {
                return Decision.Deny(limit.DenialReason(), $"the tenant's shared {limit.Name()} has less left than this needs", allowed.GrantId);
            }
        }

        // A tenant lease that lapsed while waiting leaves the plan uncovered: re-plan rather than overspend.
        if (plan.Tenant.Exists(t => !_quotas.HasLeased(t.Limit, t.Cost, now)))
        {
            return Decision.Deny(ReasonCodes.RateLimited, "the tenant's shared budget moved; try again", allowed.GrantId);
        }

        Commit(plan, now);
        return plan.Remaining is null ? allowed : allowed with { Remaining = plan.Remaining };
    }

    private void Changed() => Volatile.Write(ref _version, _version + 1);

    private void Commit(MeterPlan plan, DateTimeOffset now)
    {
        _quotas.Commit(plan, now);
        if (_quotas.RenewalDue && _renewal is not { IsCompleted: false })
        {
            _renewal = RenewReservationsAsync();
        }
    }

    private async Task RenewReservationsAsync()
    {
        var renewals = _quotas.BeginRenewals(agent.Now);
        if (renewals.Count == 0)
        {
            return; // the buckets that ran low were replaced by a new grant's meanwhile
        }

        agent.Metrics.QuotaRenewals.Add(renewals.Count);
        var written = await outbox.CommitAsync(s => renewals.ForEach(r => s.SetQuota(r.Limit, r.Record)));
        renewals.ForEach(r => r.Bucket.EndRenewal(written));
    }

    /// <summary>
    /// Records what was really used, so that the next activation does not count unspent reservations as spent. Best
    /// effort, for a clean deactivation: the last reservation written already bounds what was spent.
    /// </summary>
    public async Task SaveUsageAsync()
    {
        if (_renewal is { } renewal)
        {
            await renewal; // it changes what the buckets hold
        }

        var snapshot = _quotas.Snapshot(agent.Now).ToList();
        if (snapshot.Count > 0)
        {
            await outbox.CommitAsync(s => snapshot.ForEach(u => s.SetQuota(u.Limit, u.Record)));
        }
    }
}

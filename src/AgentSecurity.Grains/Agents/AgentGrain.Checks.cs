using AgentSecurity.Abstractions;
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

/// <summary>Checks: decide from memory, meter quotas, explain, what-if.</summary>
public sealed partial class AgentGrain
{
    public Task<Decision> CheckAsync(CheckRequest request) => DecideAuditedAsync(request);

    /// <summary>
    /// The grant decides, then the quotas meter: a denial consumes nothing; an allowed check consumes in the same turn.
    /// Completes synchronously unless a quota needs storage or the tenant first (once per reservation or lease).
    /// </summary>
    private ValueTask<Decision> DecideAndMeter(CheckRequest request, DateTimeOffset now)
    {
        var decision = _permissions.Decide(request, now, _key);
        if (!decision.Allowed || !CheckKinds.TryParse(request.Capability, out var kind))
        {
            return ValueTask.FromResult(decision);
        }

        var memoryWrite = kind == CheckKind.MemoryWrite && request.Amount is not null;
        if (_quotas.TenantLimitsRefreshAt <= now || (memoryWrite && _memoryIndex is null))
        {
            AgentSecurityMetrics.RecordMeteringWait("refresh");
            return new ValueTask<Decision>(MeterSlowAsync(decision, kind, request.Amount, now));
        }

        if (memoryWrite && MemoryLimitFailure(_memoryIndex!, request.Amount!.Value, keysAdded: 0) is { } tooMuch)
        {
            return ValueTask.FromResult(Decision.Deny(tooMuch.Code, tooMuch.Message, decision.GrantId));
        }

        if (_quotas.IsEmpty)
        {
            return ValueTask.FromResult(decision);
        }

        var plan = _quotas.Plan(kind, request.Amount, now);
        if (plan.DenialReason is not null)
        {
            return ValueTask.FromResult(Decision.Deny(plan.DenialReason, plan.DenialMessage!, decision.GrantId));
        }

        if (plan.NeedsAwait)
        {
            AgentSecurityMetrics.RecordMeteringWait(plan.Reservations.Count > 0 ? "reservation" : "lease");
            return new ValueTask<Decision>(MeterSlowAsync(decision, kind, request.Amount, now));
        }

        CommitQuotas(plan, now);
        return ValueTask.FromResult(plan.Remaining is null ? decision : decision with { Remaining = plan.Remaining });
    }

    /// <summary>Spends a plan; a limit that runs low has its next chunk reserved in the background, so checks go on meanwhile.</summary>
    private void CommitQuotas(MeterPlan plan, DateTimeOffset now)
    {
        _quotas.Commit(plan, now);
        if (_quotas.RenewalDue && _renewal is not { IsCompleted: false })
        {
            _renewal = RenewReservationsAsync();
        }
    }

    private async Task RenewReservationsAsync()
    {
        var renewals = _quotas.BeginRenewals(_time.GetUtcNow());
        if (renewals.Count == 0)
        {
            return; // the buckets that ran low were replaced by a new grant's meanwhile
        }

        AgentSecurityMetrics.QuotaRenewals.Add(renewals.Count);
        var before = renewals.ToDictionary(r => r.Limit, r => State.Quotas.GetValueOrDefault(r.Limit));
        var written = await WriteAsync(s => renewals.ForEach(r => s.Quotas[r.Limit] = r.Record), s => Restore(s, before));
        renewals.ForEach(r => r.Bucket.EndRenewal(written));
    }

    private static void Restore(AgentGrainState state, Dictionary<string, Quotas.BucketRecord?> records)
    {
        foreach (var (name, record) in records)
        {
            if (record is null)
            {
                state.Quotas.Remove(name);
            }
            else
            {
                state.Quotas[name] = record;
            }
        }
    }

    private async Task<Decision> MeterSlowAsync(Decision decision, CheckKind kind, long? amount, DateTimeOffset now)
    {
        if (_quotas.TenantLimitsRefreshAt <= now)
        {
            _quotas.SetTenantLimits(await TenantQuota.GetLimitsAsync(), now + _options.TenantLimitsRefreshInterval);
        }

        if (kind == CheckKind.MemoryWrite && amount is { } bytes && await MemoryLimitFailureAsync(bytes, keysAdded: 0) is { } tooMuch)
        {
            return Decision.Deny(tooMuch.Code, tooMuch.Message, decision.GrantId);
        }

        var plan = _quotas.Plan(kind, amount, now);
        if (plan.Reservations.Count > 0 && _renewal is { IsCompleted: false } renewal)
        {
            // A reservation is being written in the background: what it adds may spare this check a write of its own.
            await renewal;
            plan = _quotas.Plan(kind, amount, now);
        }

        if (plan.DenialReason is not null)
        {
            return Decision.Deny(plan.DenialReason, plan.DenialMessage!, decision.GrantId);
        }

        foreach (var (limit, cost, toLease) in plan.Tenant.Where(t => t.ToLease > 0))
        {
            var lease = await TenantQuota.LeaseAsync(_agentId, limit.Name(), toLease, _quotas.TakeReturn(limit, now));
            if (lease.Error is not null)
            {
                return Decision.Deny(ReasonCodes.Unavailable, $"the tenant's {limit.Name()} could not be metered: {lease.Error}", decision.GrantId);
            }

            _quotas.AddLease(limit, lease, now);
            if (lease.Limited && !_quotas.HasLeased(limit, cost, now))
            {
                return Decision.Deny(limit.DenialReason(), $"the tenant's shared {limit.Name()} is spent for now", decision.GrantId);
            }
        }

        if (plan.Reservations.Count > 0)
        {
            var before = plan.Reservations.ToDictionary(r => r.Limit.Name(), r => State.Quotas.GetValueOrDefault(r.Limit.Name()));
            var written = await CommitAsync(s => plan.Reservations.ForEach(r => s.Quotas[r.Limit.Name()] = r.Record), s => Restore(s, before));
            if (!written)
            {
                return Decision.Deny(ReasonCodes.Unavailable, "the quota reservation could not be stored", decision.GrantId);
            }
        }

        // A tenant lease that lapsed while waiting leaves the plan uncovered: re-plan rather than overspend.
        if (plan.Tenant.Exists(t => !_quotas.HasLeased(t.Limit, t.Cost, now)))
        {
            return Decision.Deny(ReasonCodes.RateLimited, "the tenant's shared budget moved; try again", decision.GrantId);
        }

        CommitQuotas(plan, now);
        return plan.Remaining is null ? decision : decision with { Remaining = plan.Remaining };
    }

    private ITenantQuotaGrain TenantQuota => GrainFactory.GetGrain<ITenantQuotaGrain>(_tenantId);

    public Task<Explanation> ExplainAsync(CheckRequest request) => Task.FromResult(_permissions.Explain(request, _time.GetUtcNow(), _key));

    public Task<Explanation> WhatIfAsync(CheckRequest request, string proposedGrant)
    {
        var now = _time.GetUtcNow();
        var terms = GrantTerms.ParseProposal(System.Text.Encoding.UTF8.GetBytes(proposedGrant ?? string.Empty), now);
        if (!terms.Succeeded)
        {
            return Task.FromResult(new Explanation
            {
                Decision = Decision.Deny(terms.Failure!.Code, $"the proposed grant is not valid: {terms.Failure.Message}"),
                DecidedBy = "proposal",
                Suggestion = "fix the proposed grant",
            });
        }

        if (request is null || string.IsNullOrEmpty(request.Capability))
        {
            return Task.FromResult(new Explanation { Decision = Decision.Deny(ReasonCodes.InvalidRequest, "a check needs a capability"), DecidedBy = "request" });
        }

        var explained = GrantExplanation.For(new GrantPolicy(terms.Value, _options.ClockSkew), request.Capability, request.Resource, now);
        var verdict = explained.Decision;
        return Task.FromResult(new Explanation
        {
            Decision = new Decision { Allowed = verdict.Allowed, Reason = verdict.Reason, Message = verdict.Message },
            DecidedBy = $"proposal: {explained.DecidedBy}",
            Suggestion = explained.Suggestion,
        });
    }
}

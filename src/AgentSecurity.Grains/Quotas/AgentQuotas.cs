using AgentSecurity.Abstractions;
using AgentSecurity.Grants;
using AgentSecurity.Grants.Capabilities;
using AgentSecurity.Grants.Policy;
using AgentSecurity.Grants.Quotas;

namespace AgentSecurity.Grains.Quotas;

/// <summary>
/// An agent's metering: its grant's rate limits as <see cref="ReservedBucket"/>s, and leases on its tenant's
/// shared limits. <see cref="Plan"/> decides whether a check fits without changing anything; <see cref="Commit"/>
/// spends. A denial therefore consumes nothing, and an allowed check consumes in the same turn it is decided.
/// </summary>
internal sealed class AgentQuotas
{
    /// <summary>
    /// A lease is at most a fiftieth of a tenant limit and lapses after a tenth of its period. Leases start at what a
    /// check needs and double while an agent spends them (twice what the last lease saw spent, when one lapsed), so
    /// an agent holds about what it spends, and many agents of a tenant do not tie up its budget between them.
    /// </summary>
    public const int LeasesPerPeriod = 50;

    // The grant's few limits in a small array (a linear search over at most a handful), and the tenant's leases only once
    // the tenant limits something: bytes per active agent count.
    private ReservedBucket[] _ownList = [];
    private Dictionary<MeteredLimit, TenantLease>? _leases;
    private TenantLimits _tenant = TenantLimits.None;

    // The tenant's limits that a check can meter, parsed once when they are set rather than on every check.
    private (MeteredLimit Limit, long Value)[] _tenantList = [];

    // One plan per thread, reused: a plan that is committed or dropped before its caller yields the thread (as a check that
    // meters synchronously does) needs no plan of its own per agent, and the hot path should not allocate. A caller that
    // awaits between planning and committing passes a plan of its own.
    [ThreadStatic]
    private static MeterPlan? t_plan;

    /// <summary>When the tenant's limits should be read again (they can change while the agent is active).</summary>
    public DateTimeOffset TenantLimitsRefreshAt { get; private set; } = DateTimeOffset.MinValue;

    /// <summary>True when nothing meters this agent's checks: the common fast path.</summary>
    public bool IsEmpty => _ownList.Length == 0 && _tenant.Limits.Count == 0 && !_tenant.Unavailable;

    /// <summary>Whether some limit meters checks of this kind (every kind, while the tenant's limits cannot be verified).</summary>
    public bool Meters(CheckKind kind)
    {
        if (_tenant.Unavailable)
        {
            return true;
        }

        foreach (var bucket in _ownList)
        {
            if (bucket.Metered.CostOf(kind, null) is not null)
            {
                return true;
            }
        }

        foreach (var (limit, _) in _tenantList)
        {
            if (limit.CostOf(kind, null) is not null)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Builds the buckets of a grant's limits; consumption so far carries over from <paramref name="stored"/>.</summary>
    public void Configure(ResourceLimits limits, IReadOnlyDictionary<string, BucketRecord> stored)
    {
        _ownList = [.. MeteredLimits.All
            .Select(limit => (limit, Value: limit.ValueIn(limits)))
            .Where(l => l.Value is not null)
            .Select(l => new ReservedBucket(l.Value!.Value, l.limit.Period(), stored.GetValueOrDefault(l.limit.Name())) { Metered = l.limit })];
    }

    /// <summary>The bucket of one of the grant's own limits, or null when the grant does not set it.</summary>
    public ReservedBucket? Own(MeteredLimit limit)
    {
        foreach (var bucket in _ownList)
        {
            if (bucket.Metered == limit)
            {
                return bucket;
            }
        }

        return null;
    }

    /// <summary>
    /// Moves on each time the tenant's limits are found out of date: a read of them that started before is out of date
    /// too when it returns.
    /// </summary>
    public int TenantLimitsNotices { get; private set; }

    /// <summary>
    /// Makes the tenant's limits due to be read again by the next check (the tenant changed them, or no longer has one of
    /// them), and a read already under way out of date.
    /// </summary>
    public void ExpireTenantLimits()
    {
        TenantLimitsRefreshAt = DateTimeOffset.MinValue;
        TenantLimitsNotices++;
    }

    /// <summary>
    /// The tenant's limits as read, kept until <paramref name="refreshAt"/>; a read that started before the last
    /// <see cref="ExpireTenantLimits"/> (<paramref name="noticesWhenRead"/> behind) is used for the check that read it and
    /// read again by the next one.
    /// </summary>
    public void SetTenantLimits(TenantLimits limits, DateTimeOffset refreshAt, int? noticesWhenRead = null)
    {
        var before = _tenant;
        _tenant = limits;
        // In the order of MeteredLimit, counts before amounts: a check that a cheap lease lets through and a large one then
        // refuses holds the cheap one, not the large one.
        _tenantList = limits.Limits.Select(p => (Parsed: MeteredLimits.TryParse(p.Key, out var limit), limit, p.Value)).Where(p => p.Parsed).Select(p => (p.limit, p.Value)).OrderBy(p => p.limit).ToArray();
        TenantLimitsRefreshAt = noticesWhenRead is { } notices && notices != TenantLimitsNotices ? DateTimeOffset.MinValue : refreshAt;
        // A lease lives on only under the limit it was sized by or a higher one: a limit removed or lowered holds for the next
        // check. Its unspent units are not returned: the tenant counts them as spent until they refill.
        foreach (var limit in _leases?.Keys.Where(l => !limits.Limits.TryGetValue(l.Name(), out var value) || value < before.Limits.GetValueOrDefault(l.Name(), long.MaxValue)).ToList() ?? [])
        {
            _leases!.Remove(limit);
        }
    }

    /// <summary>The exact state of every bucket, for a clean deactivation.</summary>
    public IEnumerable<(string Limit, BucketRecord Record)> Snapshot(DateTimeOffset now) =>
        _ownList.Select(b => (b.Metered.Name(), b.Snapshot(now)));

    /// <summary>
    /// Whether the check fits every limit that meters it; changes nothing. Without <paramref name="into"/>, the plan
    /// returned is the thread's, reused by the next call on this thread (of any agent): commit or drop it before planning
    /// again or yielding the thread. A caller that awaits in between passes a plan of its own.
    /// </summary>
    public MeterPlan Plan(CheckKind kind, long? amount, DateTimeOffset now, MeterPlan? into = null)
    {
        var plan = (into ?? (t_plan ??= new MeterPlan())).Reset();
        if (_tenant.Unavailable)
        {
            return plan.Deny(ReasonCodes.Unavailable, "the tenant's shared limits could not be verified; nothing is metered against them");
        }

        foreach (var bucket in _ownList)
        {
            var limit = bucket.Metered;
            var cost = limit.CostOf(kind, amount);
            if (cost is null)
            {
                continue;
            }

            if (cost == MeteredLimits.AmountRequired)
            {
                return plan.Deny(ReasonCodes.InvalidRequest, $"{kind.Name()} is metered by {limit.Name()}: the check needs an amount");
            }

            if (!bucket.Bucket.Fits(cost.Value, now, out var remaining))
            {
                return plan.Deny(limit.DenialReason(), $"{limit.Name()} ({bucket.Bucket.Limit}) leaves {remaining} now; this needs {cost}");
            }

            plan.Own.Add((limit, bucket, cost.Value, bucket.Bucket.TatAfter(cost.Value, now)));
            plan.Remaining = Math.Min(plan.Remaining ?? long.MaxValue, remaining);
            if (bucket.NeedsReservation(cost.Value))
            {
                plan.Reservations.Add((limit, bucket.ReservationFor(cost.Value, now)));
            }
        }

        foreach (var (limit, value) in _tenantList)
        {
            if (limit.CostOf(kind, amount) is not { } cost)
            {
                continue;
            }

            if (cost == MeteredLimits.AmountRequired)
            {
                return plan.Deny(ReasonCodes.InvalidRequest, $"{kind.Name()} is metered by the tenant's {limit.Name()}: the check needs an amount");
            }

            var lease = _leases?.GetValueOrDefault(limit) ?? default;
            var live = lease.ValidUntil > now;
            var leased = live ? lease.Units : 0;
            if (leased < cost && cost - leased > LeftAfterRefusal(limit, value, lease, now))
            {
                // The tenant refused a lease a moment ago and has not had time to refill what this needs: asking again at
                // once would only load the tenant's one grain with calls that are denied anyway.
                return plan.Deny(limit.DenialReason(), $"the tenant's shared {limit.Name()} had less left than this needs a moment ago");
            }

            var seen = live ? lease.Granted : lease.Granted - lease.Units;
            var chunk = Math.Min(Math.Max(1, value / LeasesPerPeriod), Saturating.Add(seen, seen));
            plan.Tenant.Add((limit, cost, leased >= cost ? 0 : Math.Max(cost - leased, chunk)));
        }

        return plan;
    }

    /// <summary>
    /// What is left of a lapsed lease, to return with the next lease; taken once, whether or not that call succeeds
    /// (units lost on a failed call are counted as spent: the error is on the denying side).
    /// </summary>
    public long TakeReturn(MeteredLimit limit, DateTimeOffset now)
    {
        if (_leases is null || !_leases.TryGetValue(limit, out var lease) || lease.ValidUntil > now || lease.Units <= 0)
        {
            return 0;
        }

        _leases[limit] = lease with { Units = 0, Granted = lease.Granted - lease.Units };
        return lease.Units;
    }

    /// <summary>
    /// Records a lease the tenant granted (adding to what is left of an unexpired one), or that it refused one: for a
    /// moment (<see cref="RefusalRemembered"/>), a check that needs more than the tenant then had left, what it has
    /// refilled since and what the agent would return is denied without asking.
    /// </summary>
    public void AddLease(MeteredLimit limit, QuotaLease lease, DateTimeOffset now)
    {
        _leases ??= [];
        var current = _leases.GetValueOrDefault(limit);
        if (lease.Granted <= 0)
        {
            // Nothing granted extends nothing: a refusal must not keep a live lease from lapsing (and being returned).
            _leases[limit] = current with { RefusedAt = now, LeftWhenRefused = lease.Available };
            return;
        }

        _leases[limit] = current.ValidUntil > now
            ? new TenantLease(Saturating.Add(current.Units, lease.Granted), lease.ValidUntil, Saturating.Add(current.Granted, lease.Granted))
            : new TenantLease(lease.Granted, lease.ValidUntil, lease.Granted);
    }

    /// <summary>
    /// How long a refused lease keeps an agent from asking its tenant again for more than the tenant can have: a second, or
    /// a lease's lifetime if shorter (a tenth of a second for <c>checksPerSecond</c>). Other agents may return units
    /// meanwhile, so a check may be denied within this time that the tenant would let through.
    /// </summary>
    public static TimeSpan RefusalRemembered(MeteredLimit limit) =>
        TimeSpan.FromTicks(Math.Min(TimeSpan.TicksPerSecond, limit.Period().Ticks / TenantQuotaGrain.LeaseLifetimeDivisor));

    /// <summary>What the tenant can have left now by what it said at its last refusal; unbounded when that was not a moment ago.</summary>
    private static long LeftAfterRefusal(MeteredLimit limit, long value, TenantLease lease, DateTimeOffset now)
    {
        var since = now - lease.RefusedAt;
        if (lease.RefusedAt == default || since >= RefusalRemembered(limit) || since < TimeSpan.Zero)
        {
            return long.MaxValue;
        }

        var refilled = (Int128)value * since.Ticks / limit.Period().Ticks;
        var returnable = lease.ValidUntil > now ? 0 : lease.Units; // a lapsed lease's rest goes back with the next lease
        return (long)Int128.Min((Int128)lease.LeftWhenRefused + refilled + returnable, long.MaxValue);
    }

    /// <summary>What a check of <paramref name="cost"/> needs leased beyond what the agent's live lease holds.</summary>
    public long Shortfall(MeteredLimit limit, long cost, DateTimeOffset now) =>
        _leases is not null && _leases.TryGetValue(limit, out var lease) && lease.ValidUntil > now ? Math.Max(cost - lease.Units, 0) : cost;

    public bool HasLeased(MeteredLimit limit, long cost, DateTimeOffset now) =>
        _leases is not null && _leases.TryGetValue(limit, out var lease) && lease.ValidUntil > now && lease.Units >= cost;

    /// <summary>Whether some bucket runs low on reserved units and no renewal is under way (see <see cref="BeginRenewals"/>).</summary>
    public bool RenewalDue { get; private set; }

    /// <summary>The reservations to write in the background for every bucket that runs low; each is marked as renewing.</summary>
    public List<(string Limit, ReservedBucket Bucket, BucketRecord Record)> BeginRenewals(DateTimeOffset now)
    {
        RenewalDue = false;
        return _ownList.Where(b => b.RenewalDue).Select(b => (b.Metered.Name(), b, b.BeginRenewal(now))).ToList();
    }

    /// <summary>Takes the plan's reservations, once written, as what the buckets may spend (whether or not the check then is).</summary>
    public void Reserved(MeterPlan plan)
    {
        foreach (var (limit, record) in plan.Reservations)
        {
            Own(limit)!.Reserved(record);
        }
    }

    /// <summary>Spends what the plan says; its reservations must have been written and taken (<see cref="Reserved"/>).</summary>
    public void Commit(MeterPlan plan, DateTimeOffset now)
    {
        foreach (var (_, bucket, cost, tatAfter) in plan.Own)
        {
            bucket.Consume(cost, tatAfter);
            RenewalDue |= bucket.RenewalDue;
        }

        foreach (var (limit, cost, _) in plan.Tenant)
        {
            var lease = _leases![limit];
            _leases[limit] = lease with { Units = lease.Units - cost };
        }
    }

    /// <summary>
    /// A lease on one of the tenant's limits: what is left of it until when, what was granted in all while it lived (what
    /// the next lease is sized by), and the tenant's last refusal.
    /// </summary>
    private readonly record struct TenantLease(long Units, DateTimeOffset ValidUntil, long Granted, DateTimeOffset RefusedAt = default, long LeftWhenRefused = 0);
}

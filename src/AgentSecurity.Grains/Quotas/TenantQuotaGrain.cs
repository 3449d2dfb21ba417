using AgentSecurity.Abstractions.Kernel;
using AgentSecurity.Abstractions;
using AgentSecurity.Grains.Telemetry;
using AgentSecurity.Grants.Quotas;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace AgentSecurity.Grains.Quotas;

/// <summary>
/// A tenant's shared budget. Agents lease chunks of a tenant-wide limit and spend them locally; a lease lapses after a
/// tenth of the limit's period, and its unspent units come back with the agent's next lease. Leased units are taken
/// from the tenant's bucket when leased, so the tenant can be over its limit only by what agents hold in leases that
/// have not lapsed: at most a tenth of a period's budget. What comes back is bounded by what was leased to the agent
/// that returns it (<see cref="LeaseLedger"/>).
/// </summary>
public sealed class TenantQuotaGrain : Grain, ITenantQuotaGrain, ITenantQuotaKernelGrain
{
    /// <summary>A lease lapses after this fraction of the limit's period.</summary>
    public const int LeaseLifetimeDivisor = 10;

    private readonly IPersistentState<TenantQuotaGrainState> _state;
    private readonly TimeProvider _time;
    private readonly ILogger<TenantQuotaGrain> _logger;
    private readonly Dictionary<MeteredLimit, ReservedBucket> _buckets = [];
    private readonly LeaseLedger _ledger = new();
    private readonly LimitReaders _readers;
    private readonly TimeSpan _recheck;
    private TenantLimits _limits = TenantLimits.None;

    public TenantQuotaGrain(
        [PersistentState("tenant-quota", StorageNames.Grains)] IPersistentState<TenantQuotaGrainState> state,
        [FromKeyedServices(KernelClock.ServiceKey)] TimeProvider time,
        IOptions<AgentSecurityOptions> options,
        ILogger<TenantQuotaGrain> logger)
    {
        _state = state;
        _time = time;
        _logger = logger;
        _readers = new LimitReaders(options.Value.TenantLimitsRefreshInterval * 2);
        _recheck = options.Value.TenantLimitsRefreshInterval;
    }

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        await RefreshAsync();
        // The issuer tells this grain when the tenant's limits change, but that call can be lost (it times out queued
        // behind a lease whose write is slow, and a retry of the same document finds it unchanged): compared at the pace
        // agents re-read, the grain does not meter against old limits for longer than that.
        // It interleaves, so that leases go on while it waits on the issuer; it replaces the buckets in a call that does not.
        this.RegisterGrainTimer(RecheckLimitsAsync, new GrainTimerCreationOptions(_recheck, _recheck) { Interleave = true });
    }

    public override async Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        if (_buckets.Count == 0)
        {
            return;
        }

        // A clean stop records what was really used, so a restart does not count unspent reservations.
        var now = _time.GetUtcNow();
        foreach (var (limit, bucket) in _buckets)
        {
            _state.State.Buckets[limit.Name()] = bucket.Snapshot(now);
        }

        try
        {
            await _state.WriteStateAsync(cancellationToken);
        }
#pragma warning disable CA1031 // Best effort: the last reservation written already bounds what was spent.
        catch (Exception e)
#pragma warning restore CA1031
        {
            Log.QuotaNotPersisted(_logger, e, this.GetPrimaryKeyString());
        }
    }

    public async Task RefreshAsync() => Apply(await GrainFactory.GetGrain<IGrantIssuerGrain>(this.GetPrimaryKeyString()).GetTenantLimitsAsync());

    private async Task RecheckLimitsAsync(CancellationToken cancellation)
    {
        var latest = await GrainFactory.GetGrain<IGrantIssuerGrain>(this.GetPrimaryKeyString()).GetTenantLimitsAsync();
        if (!Same(latest, _limits))
        {
            Log.TenantLimitsRecovered(_logger, this.GetPrimaryKeyString());
            await this.AsReference<ITenantQuotaKernelGrain>().RefreshAsync();
            await NotifyLimitReadersAsync();
        }
    }

    private static bool Same(TenantLimits a, TenantLimits b) =>
        a.IssuedAt == b.IssuedAt && a.Unavailable == b.Unavailable && a.MaxAgents == b.MaxAgents &&
        a.Limits.Count == b.Limits.Count && a.Limits.All(p => b.Limits.TryGetValue(p.Key, out var value) && value == p.Value);

    // Not across an await: a lease under way holds a bucket of the dictionary this replaces.
    private void Apply(TenantLimits limits)
    {
        _limits = limits;
        var now = _time.GetUtcNow();
        var current = _buckets.ToDictionary(p => p.Key.Name(), p => p.Value.Snapshot(now));
        _buckets.Clear();
        foreach (var (name, value) in _limits.Limits)
        {
            if (MeteredLimits.TryParse(name, out var limit))
            {
                _buckets[limit] = new ReservedBucket(value, limit.Period(), current.GetValueOrDefault(name) ?? _state.State.Buckets.GetValueOrDefault(name));
            }
        }
    }

    public Task<TenantLimits> GetLimitsAsync() => Task.FromResult(_limits);

    public Task<TenantLimits> ReadLimitsAsync(string agentId)
    {
        _readers.Read(agentId, _time.GetUtcNow());
        return Task.FromResult(_limits);
    }

    // Before the administrator's call returns: a check an agent starts after it is metered against the new limits. An
    // agent that cannot be told (within the notice's timeout) reads them at its next refresh, as it would without it.
    public async Task NotifyLimitReadersAsync()
    {
        var tenantId = this.GetPrimaryKeyString();
        await Task.WhenAll(_readers.Recent(_time.GetUtcNow()).Select(async agentId =>
        {
            try
            {
                await GrainFactory.GetGrain<IAgentKernelGrain>(AgentKey.Of(tenantId, agentId)).NotifyTenantLimitsChangedAsync();
            }
#pragma warning disable CA1031 // Best effort: the agent's own refresh bounds how long it meters against the old limits.
            catch (Exception e)
#pragma warning restore CA1031
            {
                Log.TenantLimitsNotDelivered(_logger, e, tenantId, agentId);
            }
        }));
    }

    public Task<IReadOnlyList<TenantBudgetUse>> GetBudgetUseAsync()
    {
        var now = _time.GetUtcNow();
        IReadOnlyList<TenantBudgetUse> use = [.. _buckets.Select(p => new TenantBudgetUse
        {
            Limit = p.Key.Name(),
            Value = p.Value.Bucket.Limit,
            Used = p.Value.Bucket.Used(now),
            Period = p.Value.Bucket.Period,
        }).OrderBy(u => u.Limit, StringComparer.Ordinal)];
        return Task.FromResult(use);
    }

    public async Task<QuotaLease> LeaseAsync(string agentId, string limit, long needed, long wanted, long returned)
    {
        if (!MeteredLimits.TryParse(limit, out var metered) || !_buckets.TryGetValue(metered, out var bucket))
        {
            return new QuotaLease { Limited = false };
        }

        var now = _time.GetUtcNow();
        _readers.Read(agentId, now); // an agent that leases uses the limits too: a restarted grain learns of it again
        var lifetime = metered.Period() / LeaseLifetimeDivisor;
        bucket.RefundAsReserved(_ledger.Settle(metered, agentId, returned, now), now);
        var validUntil = now + lifetime;
        bucket.Bucket.Fits(0, now, out var available);
        needed = Math.Max(needed, 0);
        var granted = available < needed ? 0 : Math.Min(Math.Max(wanted, needed), available);
        if (granted <= 0) // a bucket restored over its limit has less than nothing left
        {
            return new QuotaLease { Limited = true, Granted = 0, ValidUntil = validUntil, Available = Math.Max(available, 0) };
        }

        if (bucket.NeedsReservation(granted))
        {
            var record = bucket.ReservationFor(granted, now);
            var previous = _state.State.Buckets.GetValueOrDefault(limit);
            _state.State.Buckets[limit] = record;
            try
            {
                await _state.WriteStateAsync();
            }
#pragma warning disable CA1031 // Storage trouble means no lease; the agent's check is denied as unavailable.
            catch (Exception e)
#pragma warning restore CA1031
            {
                if (previous is null)
                {
                    _state.State.Buckets.Remove(limit);
                }
                else
                {
                    _state.State.Buckets[limit] = previous;
                }

                Log.QuotaNotPersisted(_logger, e, this.GetPrimaryKeyString());
                DeactivateOnIdle();
                return new QuotaLease { Limited = true, Error = "the tenant quota could not be stored" };
            }

            bucket.Reserved(record);
        }

        bucket.Consume(granted, bucket.Bucket.TatAfter(granted, now));
        _ledger.Leased(metered, agentId, granted, validUntil, now, lifetime);
        return new QuotaLease { Limited = true, Granted = granted, ValidUntil = validUntil, Available = available - granted };
    }
}

using AgentSecurity.Grants.Quotas;

namespace AgentSecurity.Grains.Quotas;

/// <summary>
/// What a tenant leased to each of its agents and has not settled: an agent returns what it did not spend of a lapsed
/// lease, and no more can come back than the tenant leased to that agent since its last settled lease. In memory only:
/// a tenant grain that restarts refunds nothing of leases given before, which counts them as spent.
/// </summary>
internal sealed class LeaseLedger
{
    private const int MinimumSweep = 1024;

    private readonly Dictionary<(MeteredLimit Limit, string Agent), (long Units, DateTimeOffset ValidUntil)> _leased = [];
    private int _sweepAt = MinimumSweep;

    /// <summary>Agents and limits with leases on record.</summary>
    public int Count => _leased.Count;

    /// <summary>
    /// Of the <paramref name="returned"/> units an agent says it did not spend, those it can give back: none while its
    /// lease is live (nothing of it has lapsed), at most what it was leased once it has lapsed. Its leases are then settled.
    /// </summary>
    public long Settle(MeteredLimit limit, string agent, long returned, DateTimeOffset now)
    {
        if (returned <= 0 || !_leased.TryGetValue((limit, agent), out var leased) || leased.ValidUntil > now)
        {
            return 0;
        }

        _leased.Remove((limit, agent));
        return Math.Min(returned, leased.Units);
    }

    /// <summary>Records a lease given to an agent: added to a live one, else starting afresh.</summary>
    public void Leased(MeteredLimit limit, string agent, long units, DateTimeOffset validUntil, DateTimeOffset now, TimeSpan lifetime)
    {
        var key = (limit, agent);
        _leased[key] = _leased.TryGetValue(key, out var current) && current.ValidUntil > now
            ? (Saturating.Add(current.Units, units), validUntil)
            : (units, validUntil);
        Forget(now, lifetime);
    }

    // A lease that lapsed a lifetime ago has been returned if its agent is active at all: forgetting it refunds nothing
    // more, so the ledger follows the active agents. Swept when it has doubled, amortized constant per lease.
    private void Forget(DateTimeOffset now, TimeSpan lifetime)
    {
        if (_leased.Count < _sweepAt)
        {
            return;
        }

        foreach (var key in _leased.Where(p => p.Value.ValidUntil + lifetime <= now).Select(p => p.Key).ToList())
        {
            _leased.Remove(key);
        }

        _sweepAt = Math.Max(MinimumSweep, _leased.Count * 2);
    }
}

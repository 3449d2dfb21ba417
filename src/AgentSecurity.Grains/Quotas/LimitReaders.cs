namespace AgentSecurity.Grains.Quotas;

/// <summary>
/// The agents that read their tenant's limits recently enough to still be using what they read: an agent keeps the
/// limits it read for <see cref="AgentSecurityOptions.TenantLimitsRefreshInterval"/>, so the tenant tells these agents
/// when its limits change, and a new limit holds for them at once instead of at their next read. Kept twice the interval:
/// an agent counts its interval from before it asked, so one would do, and the second is a margin for the silos' clocks
/// (the kernel's, which a deployment may set) running apart. Swept like <see cref="LeaseLedger"/>. In memory only: a tenant grain that restarts knows no readers, and
/// agents that read from the one before use what they read until their next read.
/// </summary>
internal sealed class LimitReaders(TimeSpan kept)
{
    private const int MinimumSweep = 1024;

    private readonly Dictionary<string, DateTimeOffset> _readAt = new(StringComparer.Ordinal);
    private int _sweepAt = MinimumSweep;

    public int Count => _readAt.Count;

    public void Read(string agentId, DateTimeOffset now)
    {
        _readAt[agentId] = now;
        if (_readAt.Count >= _sweepAt)
        {
            Forget(now);
            _sweepAt = Math.Max(MinimumSweep, _readAt.Count * 2);
        }
    }

    /// <summary>The agents that may still use limits they read, and forgets the others.</summary>
    public IReadOnlyList<string> Recent(DateTimeOffset now)
    {
        Forget(now);
        return [.. _readAt.Keys];
    }

    private void Forget(DateTimeOffset now)
    {
        foreach (var agent in _readAt.Where(p => p.Value + kept <= now).Select(p => p.Key).ToList())
        {
            _readAt.Remove(agent);
        }
    }
}

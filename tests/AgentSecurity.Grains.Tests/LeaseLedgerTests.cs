using AgentSecurity.Grains.Quotas;
using AgentSecurity.Grants.Quotas;

namespace AgentSecurity.Grains.Tests;

/// <summary>The tenant's record of what it leased to whom, which bounds what agents can return.</summary>
public sealed class LeaseLedgerTests
{
    private static readonly DateTimeOffset T0 = new(2026, 12, 1, 0, 0, 0, TimeSpan.Zero);
    private static readonly TimeSpan Lifetime = TimeSpan.FromMinutes(6);
    private const MeteredLimit Tokens = MeteredLimit.LlmTokensPerHour;

    [Fact]
    public void Settle_LeasesAddedWhileLive_ReturnAtMostTheirSumOnceLapsed()
    {
        var ledger = new LeaseLedger();
        ledger.Leased(Tokens, "a", 100, T0 + Lifetime, T0, Lifetime);
        ledger.Leased(Tokens, "a", 50, T0 + Lifetime + TimeSpan.FromMinutes(1), T0 + TimeSpan.FromMinutes(1), Lifetime);

        Assert.Equal(0, ledger.Settle(Tokens, "a", 150, T0 + Lifetime)); // the merged lease is live until minute 7
        Assert.Equal(150, ledger.Settle(Tokens, "a", 1_000, T0 + Lifetime + TimeSpan.FromMinutes(1)));
        Assert.Equal(0, ledger.Settle(Tokens, "a", 1_000, T0 + Lifetime + TimeSpan.FromMinutes(1)));
    }

    [Fact]
    public void Settle_LeaseAfterALapsedOne_StartsAfresh()
    {
        var ledger = new LeaseLedger();
        ledger.Leased(Tokens, "a", 100, T0 + Lifetime, T0, Lifetime);
        ledger.Leased(Tokens, "a", 10, T0 + (2 * Lifetime), T0 + Lifetime, Lifetime); // returned nothing: it spent it all

        Assert.Equal(10, ledger.Settle(Tokens, "a", 100, T0 + (2 * Lifetime)));
    }

    [Fact]
    public void Settle_OtherAgentOrLimitOrNothingReturned_GivesNothingBack()
    {
        var ledger = new LeaseLedger();
        ledger.Leased(Tokens, "a", 100, T0 + Lifetime, T0, Lifetime);
        var later = T0 + Lifetime;

        Assert.Equal(0, ledger.Settle(Tokens, "b", 100, later));
        Assert.Equal(0, ledger.Settle(MeteredLimit.NetworkRequestsPerMinute, "a", 100, later));
        Assert.Equal(0, ledger.Settle(Tokens, "a", -5, later));
        Assert.Equal(40, ledger.Settle(Tokens, "a", 40, later));
    }

    [Fact]
    public void Leased_ManyAgentsOverTime_KeepsOnlyRecentLeases()
    {
        var ledger = new LeaseLedger();
        for (var i = 0; i < 100_000; i++)
        {
            var now = T0 + TimeSpan.FromSeconds(i);
            ledger.Leased(Tokens, $"agent-{i}", 1, now + Lifetime, now, Lifetime);
        }

        // Leases of the last two lifetimes (720 s) at most, and the sweep's slack: never the 100,000 agents seen.
        Assert.InRange(ledger.Count, 1, 2 * 1024);
    }

    [Fact]
    public void Leased_SweepOfManyAgents_ForgetsOnlyLeasesThatLapsedALifetimeAgo()
    {
        // A lease that lapsed less than a lifetime ago may still come back with its agent's next lease: a sweep keeps it.
        var ledger = new LeaseLedger();
        var now = T0 + (2 * Lifetime);
        ledger.Leased(Tokens, "old", 100, T0 + Lifetime, T0, Lifetime); // lapsed exactly a lifetime before now
        ledger.Leased(Tokens, "recent", 100, now - TimeSpan.FromMinutes(1), now - Lifetime - TimeSpan.FromMinutes(1), Lifetime);

        // 1,024 leases on record start a sweep.
        for (var i = 0; i < 1_022; i++)
        {
            ledger.Leased(Tokens, $"agent-{i}", 1, now + Lifetime, now, Lifetime);
        }

        Assert.Equal(1_023, ledger.Count);
        Assert.Equal(0, ledger.Settle(Tokens, "old", 100, now));
        Assert.Equal(100, ledger.Settle(Tokens, "recent", 100, now));
    }
}

using AgentSecurity.Abstractions;
using AgentSecurity.Grains.Quotas;
using AgentSecurity.Grants;
using AgentSecurity.Grants.Capabilities;
using AgentSecurity.Grants.Policy;
using AgentSecurity.Grants.Quotas;
using Microsoft.Extensions.Time.Testing;

namespace AgentSecurity.Grains.Tests.Quotas;

/// <summary>
/// An agent's metering without a grain or storage: a plan decides and changes nothing, a commit spends, a bucket that
/// runs low asks for its next reservation, and leases on the tenant's limits follow what the agent spends.
/// </summary>
public sealed class AgentQuotasTests
{
    private static readonly DateTimeOffset T0 = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    /// <summary>How long the tenant grain's leases of an hourly limit last (a tenth of the period).</summary>
    private static readonly TimeSpan LeaseLifetime = TimeSpan.FromMinutes(6);

    private readonly FakeTimeProvider _time = new(T0);

    private DateTimeOffset Now => _time.GetUtcNow();

    private static AgentQuotas Quotas(ResourceLimits limits, Dictionary<string, BucketRecord>? stored = null)
    {
        var quotas = new AgentQuotas();
        quotas.Configure(limits, stored ?? []);
        quotas.SetTenantLimits(TenantLimits.None, DateTimeOffset.MaxValue);
        return quotas;
    }

    private static AgentQuotas TenantQuotas(string limit, long value)
    {
        var quotas = new AgentQuotas();
        quotas.Configure(ResourceLimits.None, new Dictionary<string, BucketRecord>());
        quotas.SetTenantLimits(new TenantLimits { Limits = new Dictionary<string, long> { [limit] = value } }, DateTimeOffset.MaxValue);
        return quotas;
    }

    /// <summary>Plans and, if allowed, takes its reservations and commits: what the grain does once they are written.</summary>
    private (bool Allowed, string? Reason, long? Remaining) Spend(AgentQuotas quotas, CheckKind kind, long? amount = null)
    {
        var plan = quotas.Plan(kind, amount, Now);
        if (plan.DenialReason is null)
        {
            quotas.Reserved(plan);
            quotas.Commit(plan, Now);
        }

        return (plan.DenialReason is null, plan.DenialReason, plan.Remaining);
    }

    /// <summary>Takes a lease of <paramref name="units"/> of the tenant's tokens, valid for a lease's lifetime from now.</summary>
    private void Lease(AgentQuotas quotas, long units) =>
        quotas.AddLease(MeteredLimit.LlmTokensPerHour, new QuotaLease { Granted = units, ValidUntil = Now + LeaseLifetime, Limited = true }, Now);

    [Fact]
    public void IsEmpty_NoLimitThatMetersChecks_IsTrue()
    {
        Assert.True(Quotas(ResourceLimits.None).IsEmpty);
        // Execution and storage limits are enforced elsewhere, not per check.
        Assert.True(Quotas(ResourceLimits.None with { MaxCpuMillis = 10, MemoryBytesStored = 100 }).IsEmpty);
        Assert.False(Quotas(ResourceLimits.None with { ChecksPerSecond = 10 }).IsEmpty);
    }

    [Fact]
    public void IsEmpty_TenantLimitsOrUnavailableTenant_IsFalse()
    {
        Assert.False(TenantQuotas("llmTokensPerHour", 1_000).IsEmpty);

        var quotas = Quotas(ResourceLimits.None);
        quotas.SetTenantLimits(new TenantLimits { Unavailable = true }, DateTimeOffset.MaxValue);
        Assert.False(quotas.IsEmpty);
    }

    [Fact]
    public void TenantLimitsRefreshAt_NewQuotas_IsDueAtOnce()
    {
        var quotas = new AgentQuotas();
        Assert.Equal(DateTimeOffset.MinValue, quotas.TenantLimitsRefreshAt);

        quotas.SetTenantLimits(TenantLimits.None, T0.AddSeconds(30));

        Assert.Equal(T0.AddSeconds(30), quotas.TenantLimitsRefreshAt);
    }

    [Fact]
    public void Plan_RepeatedWithoutCommit_ChangesNothing()
    {
        var quotas = Quotas(ResourceLimits.None with { ChecksPerSecond = 3 });

        for (var i = 0; i < 10; i++)
        {
            var plan = quotas.Plan(CheckKind.Llm, null, Now);
            Assert.Equal((null, 2L), (plan.DenialReason, plan.Remaining));
        }

        Assert.Equal(0, Assert.Single(quotas.Snapshot(Now)).Record.Used);
    }

    [Fact]
    public void Commit_ChecksPerSecond_SpendsExactlyTheBudgetAndRefillsOnTime()
    {
        var quotas = Quotas(ResourceLimits.None with { ChecksPerSecond = 3 });

        var first = Enumerable.Range(0, 4).Select(_ => Spend(quotas, CheckKind.Llm)).ToList();

        Assert.Equal([(true, null, 2L), (true, null, 1L), (true, null, 0L), (false, ReasonCodes.RateLimited, null)], first);

        // One check is earned back every third of a second, to the tick.
        _time.Advance(TimeSpan.FromTicks(TimeSpan.TicksPerSecond / 3));
        Assert.Equal(ReasonCodes.RateLimited, Spend(quotas, CheckKind.Llm).Reason);
        _time.Advance(TimeSpan.FromTicks(1));
        Assert.True(Spend(quotas, CheckKind.Llm).Allowed);
        Assert.Equal(ReasonCodes.RateLimited, Spend(quotas, CheckKind.Llm).Reason);
    }

    [Fact]
    public void Commit_HourlyLimit_RefillsTheElapsedShareOfTheHour()
    {
        var quotas = Quotas(ResourceLimits.None with { LlmTokensPerHour = 1_000 });
        Assert.True(Spend(quotas, CheckKind.Llm, 1_000).Allowed);

        // 36 minutes are 60% of the hour: 600 tokens, not one more.
        _time.Advance(TimeSpan.FromMinutes(36));
        var tooMuch = quotas.Plan(CheckKind.Llm, 601, Now);
        Assert.Equal(ReasonCodes.QuotaExceeded, tooMuch.DenialReason);
        Assert.Equal("llmTokensPerHour (1000) leaves 600 now; this needs 601", tooMuch.DenialMessage);
        Assert.Equal((true, null, 0L), Spend(quotas, CheckKind.Llm, 600));
    }

    [Fact]
    public void Plan_DeniedByOneLimit_ConsumesNothingOfAnother()
    {
        // checksPerSecond fits and is planned first; llmTokensPerHour then denies the whole check.
        var quotas = Quotas(ResourceLimits.None with { ChecksPerSecond = 2, LlmTokensPerHour = 100 });

        for (var i = 0; i < 5; i++)
        {
            Assert.Equal(ReasonCodes.QuotaExceeded, Spend(quotas, CheckKind.Llm, 101).Reason);
        }

        Assert.All(quotas.Snapshot(Now), s => Assert.Equal(0, s.Record.Used));
        Assert.True(Spend(quotas, CheckKind.Llm, 1).Allowed);
        Assert.True(Spend(quotas, CheckKind.Llm, 1).Allowed);
        Assert.Equal(ReasonCodes.RateLimited, Spend(quotas, CheckKind.Llm, 1).Reason);
    }

    [Theory]
    [InlineData(CheckKind.Llm, "llmTokensPerHour")]
    [InlineData(CheckKind.FileSystemWrite, "fileBytesWrittenPerHour")]
    public void Plan_MeteredByAmountWithoutAmount_IsInvalidRequest(CheckKind kind, string limit)
    {
        var quotas = Quotas(ResourceLimits.None.With(limit, 1_000));

        var plan = quotas.Plan(kind, null, Now);

        Assert.Equal(ReasonCodes.InvalidRequest, plan.DenialReason);
        Assert.Contains(limit, plan.DenialMessage, StringComparison.Ordinal);
    }

    [Fact]
    public void Plan_CheckNoLimitMeters_IsAllowedWithoutRemaining()
    {
        var quotas = Quotas(ResourceLimits.None with { NetworkRequestsPerMinute = 1 });

        var plan = quotas.Plan(CheckKind.Llm, null, Now);

        Assert.Null(plan.DenialReason);
        Assert.Empty(plan.Own);
        Assert.Null(plan.Remaining);
        Assert.False(plan.NeedsAwait);
    }

    [Fact]
    public void Plan_SeveralLimits_RemainingIsTheTightest()
    {
        var quotas = Quotas(ResourceLimits.None with { ChecksPerSecond = 100, NetworkRequestsPerMinute = 5 });

        var (allowed, _, remaining) = Spend(quotas, CheckKind.NetworkOutbound);

        Assert.Equal((true, 4L), (allowed, remaining));
    }

    [Fact]
    public void Configure_StoredRecord_CountsWhatWasUsedAndReservedAsSpent()
    {
        // A new activation cannot tell how much of the last reservation was spent before the old one ended.
        var stored = new Dictionary<string, BucketRecord> { ["checksPerSecond"] = new() { At = T0, Used = 1, Reserved = 1 } };
        var quotas = Quotas(ResourceLimits.None with { ChecksPerSecond = 3 }, stored);

        Assert.Equal((true, null, 0L), Spend(quotas, CheckKind.Llm));
        Assert.Equal(ReasonCodes.RateLimited, Spend(quotas, CheckKind.Llm).Reason);
    }

    [Fact]
    public void Snapshot_AfterSpending_IsWhatIsInUseWithNothingReserved()
    {
        var quotas = Quotas(ResourceLimits.None with { LlmTokensPerHour = 1_000 });
        Assert.True(Spend(quotas, CheckKind.Llm, 30).Allowed);

        var (limit, record) = Assert.Single(quotas.Snapshot(Now));

        Assert.Equal(("llmTokensPerHour", Now, 30L, 0L), (limit, record.At, record.Used, record.Reserved));
        _time.Advance(TimeSpan.FromHours(1));
        Assert.Equal(0, Assert.Single(quotas.Snapshot(Now)).Record.Used);
    }

    [Fact]
    public void Plan_NothingReserved_AsksToReserveAChunkFirst()
    {
        // An hourly limit of 1000 reserves a tenth at a time.
        var quotas = Quotas(ResourceLimits.None with { LlmTokensPerHour = 1_000 });

        var plan = quotas.Plan(CheckKind.Llm, 30, Now);

        var (limit, record) = Assert.Single(plan.Reservations);
        Assert.Equal(MeteredLimit.LlmTokensPerHour, limit);
        Assert.Equal((Now, 0L, 100L), (record.At, record.Used, record.Reserved));
        Assert.True(plan.NeedsAwait);
    }

    [Fact]
    public void Plan_CostAboveAChunk_ReservesTheCost()
    {
        var quotas = Quotas(ResourceLimits.None with { LlmTokensPerHour = 1_000 });

        var plan = quotas.Plan(CheckKind.Llm, 250, Now);

        Assert.Equal(250, Assert.Single(plan.Reservations).Record.Reserved);
    }

    [Fact]
    public void Commit_WithinTheReservation_NeedsNoWriteUntilItIsSpent()
    {
        var quotas = Quotas(ResourceLimits.None with { LlmTokensPerHour = 1_000 });
        Assert.True(Spend(quotas, CheckKind.Llm, 30).Allowed);

        var second = quotas.Plan(CheckKind.Llm, 70, Now);
        Assert.Empty(second.Reservations);
        Assert.False(second.NeedsAwait);
        quotas.Commit(second, Now);

        // All 100 reserved are spent: the next check reserves what is in use plus a fresh chunk.
        var third = quotas.Plan(CheckKind.Llm, 1, Now);
        var record = Assert.Single(third.Reservations).Record;
        Assert.Equal((100L, 100L), (record.Used, record.Reserved));
    }

    [Fact]
    public void Commit_LessThanHalfAChunkLeft_MakesOneRenewalDue()
    {
        var quotas = Quotas(ResourceLimits.None with { LlmTokensPerHour = 1_000 });
        Assert.True(Spend(quotas, CheckKind.Llm, 50).Allowed); // half of the chunk of 100 left: not yet low
        Assert.False(quotas.RenewalDue);
        Assert.True(Spend(quotas, CheckKind.Llm, 1).Allowed);
        Assert.True(quotas.RenewalDue);

        var (limit, bucket, record) = Assert.Single(quotas.BeginRenewals(Now));

        // The next chunk on top of the 49 left, with the 51 in use: all this activation may spend until the write lands.
        Assert.Equal(("llmTokensPerHour", 51L, 149L), (limit, record.Used, record.Reserved));
        Assert.False(quotas.RenewalDue);
        Assert.True(bucket.Renewing);

        // While the write is under way, more spending starts no second renewal.
        Assert.True(Spend(quotas, CheckKind.Llm, 1).Allowed);
        Assert.False(quotas.RenewalDue);
        Assert.Empty(quotas.BeginRenewals(Now));

        bucket.EndRenewal(written: true);
        Assert.Empty(quotas.Plan(CheckKind.Llm, 148, Now).Reservations);
        Assert.Single(quotas.Plan(CheckKind.Llm, 149, Now).Reservations);
    }

    [Fact]
    public void EndRenewal_WriteFailed_AddsNothingAndTheNextSpendMakesItDueAgain()
    {
        var quotas = Quotas(ResourceLimits.None with { LlmTokensPerHour = 1_000 });
        Assert.True(Spend(quotas, CheckKind.Llm, 51).Allowed);
        var (_, bucket, _) = Assert.Single(quotas.BeginRenewals(Now));

        bucket.EndRenewal(written: false);

        Assert.False(bucket.Renewing);
        Assert.Single(quotas.Plan(CheckKind.Llm, 50, Now).Reservations);
        Assert.True(Spend(quotas, CheckKind.Llm, 1).Allowed);
        Assert.True(quotas.RenewalDue);
    }

    [Fact]
    public void Plan_TenantUnavailable_DeniesEveryCheck()
    {
        // Shared limits that cannot be verified cannot be metered; running unmetered would overspend them.
        var quotas = Quotas(ResourceLimits.None with { ChecksPerSecond = 100 });
        quotas.SetTenantLimits(new TenantLimits { Unavailable = true }, DateTimeOffset.MaxValue);

        foreach (var kind in Enum.GetValues<CheckKind>())
        {
            Assert.Equal(ReasonCodes.Unavailable, quotas.Plan(kind, 1, Now).DenialReason);
        }

        Assert.Equal(0, Assert.Single(quotas.Snapshot(Now)).Record.Used);
    }

    [Theory]
    [InlineData(100_000, 10)]
    [InlineData(1_000, 1_001)] // more than the limit as last read: the tenant decides (it may have been raised since)
    public void Plan_TenantLimitWithoutLease_AsksTheTenantForWhatTheCheckNeeds(long limit, long amount)
    {
        var quotas = TenantQuotas("llmTokensPerHour", limit);

        var plan = quotas.Plan(CheckKind.Llm, amount, Now);

        Assert.Null(plan.DenialReason);
        Assert.Equal((MeteredLimit.LlmTokensPerHour, amount, amount), Assert.Single(plan.Tenant));
        Assert.True(plan.NeedsAwait);
    }

    [Fact]
    public void Plan_TenantLimitMeteredByAmountWithoutAmount_IsInvalidRequest()
    {
        var plan = TenantQuotas("llmTokensPerHour", 100_000).Plan(CheckKind.Llm, null, Now);

        Assert.Equal(ReasonCodes.InvalidRequest, plan.DenialReason);
        Assert.Contains("tenant's llmTokensPerHour", plan.DenialMessage, StringComparison.Ordinal);
    }

    [Fact]
    public void Plan_TenantLimitThatDoesNotMeterTheCheck_IsLeftAlone()
    {
        var quotas = TenantQuotas("networkRequestsPerMinute", 1_000);

        Assert.Empty(quotas.Plan(CheckKind.Llm, 10, Now).Tenant);
        Assert.Single(quotas.Plan(CheckKind.NetworkInbound, null, Now).Tenant);
    }

    [Fact]
    public void Commit_LiveLeaseCoversTheCheck_TakesNothingNew()
    {
        var quotas = TenantQuotas("llmTokensPerHour", 100_000);
        Lease(quotas, 100);

        var plan = quotas.Plan(CheckKind.Llm, 60, Now);
        Assert.Equal(0, Assert.Single(plan.Tenant).ToLease);
        Assert.False(plan.NeedsAwait);
        quotas.Commit(plan, Now);

        Assert.True(quotas.HasLeased(MeteredLimit.LlmTokensPerHour, 40, Now));
        Assert.False(quotas.HasLeased(MeteredLimit.LlmTokensPerHour, 41, Now));
    }

    [Fact]
    public void Plan_LeasesSpentWhileLive_DoubleUpToAFiftiethOfTheTenantLimit()
    {
        // A tenant limit of 100,000 is leased at most 2,000 at a time. Each lease asks for twice what was leased so
        // far while the lease lives, so an agent that spends fast soon holds a fiftieth and one that spends little holds little.
        var quotas = TenantQuotas("llmTokensPerHour", 100_000);
        var leases = new List<long>();

        while (leases.Count < 8)
        {
            var plan = quotas.Plan(CheckKind.Llm, 10, Now);
            var (limit, cost, toLease) = Assert.Single(plan.Tenant);
            if (toLease > 0)
            {
                leases.Add(toLease);
                Lease(quotas, toLease);
            }

            Assert.True(quotas.HasLeased(limit, cost, Now));
            quotas.Commit(plan, Now);
        }

        Assert.Equal([10L, 20L, 60L, 180L, 540L, 1_620L, 2_000L, 2_000L], leases);
    }

    [Fact]
    public void Plan_SmallTenantLimit_LeasesAtLeastOne()
    {
        // A fiftieth of 10 rounds down to nothing: leases are then one unit at a time, never none.
        var quotas = TenantQuotas("networkRequestsPerMinute", 10);
        var plan = quotas.Plan(CheckKind.NetworkOutbound, null, Now);
        Assert.Equal(1, Assert.Single(plan.Tenant).ToLease);
        quotas.AddLease(MeteredLimit.NetworkRequestsPerMinute, new QuotaLease { Granted = 1, ValidUntil = Now.AddSeconds(6), Limited = true }, Now);
        quotas.Commit(plan, Now);

        Assert.Equal(1, Assert.Single(quotas.Plan(CheckKind.NetworkOutbound, null, Now).Tenant).ToLease);
    }

    [Fact]
    public void HasLeased_LeaseLapsed_IsFalseFromItsValidUntil()
    {
        var quotas = TenantQuotas("llmTokensPerHour", 100_000);
        Lease(quotas, 100);

        _time.Advance(LeaseLifetime - TimeSpan.FromTicks(1));
        Assert.True(quotas.HasLeased(MeteredLimit.LlmTokensPerHour, 100, Now));
        _time.Advance(TimeSpan.FromTicks(1));
        Assert.False(quotas.HasLeased(MeteredLimit.LlmTokensPerHour, 1, Now));
    }

    [Fact]
    public void Plan_AfterALeaseLapsed_LeasesTwiceWhatItSawSpent()
    {
        var quotas = TenantQuotas("llmTokensPerHour", 100_000);
        Lease(quotas, 100);
        for (var i = 0; i < 3; i++)
        {
            quotas.Commit(quotas.Plan(CheckKind.Llm, 10, Now), Now);
        }

        _time.Advance(LeaseLifetime);

        Assert.Equal(60, Assert.Single(quotas.Plan(CheckKind.Llm, 10, Now).Tenant).ToLease);
    }

    [Fact]
    public void TakeReturn_LapsedLease_GivesWhatWasNotSpentOnce()
    {
        var quotas = TenantQuotas("llmTokensPerHour", 100_000);
        Lease(quotas, 100);
        for (var i = 0; i < 3; i++)
        {
            quotas.Commit(quotas.Plan(CheckKind.Llm, 10, Now), Now);
        }

        // Nothing of a live lease has lapsed, so there is nothing to return yet.
        Assert.Equal(0, quotas.TakeReturn(MeteredLimit.LlmTokensPerHour, Now));
        _time.Advance(LeaseLifetime);

        Assert.Equal(70, quotas.TakeReturn(MeteredLimit.LlmTokensPerHour, Now));
        Assert.Equal(0, quotas.TakeReturn(MeteredLimit.LlmTokensPerHour, Now));
        // The return does not change what the next lease is sized by: the 30 spent.
        Assert.Equal(60, Assert.Single(quotas.Plan(CheckKind.Llm, 10, Now).Tenant).ToLease);
    }

    [Fact]
    public void TakeReturn_NeverLeased_IsNothing() =>
        Assert.Equal(0, TenantQuotas("llmTokensPerHour", 100_000).TakeReturn(MeteredLimit.LlmTokensPerHour, T0.AddDays(1)));

    [Fact]
    public void AddLease_WhileLive_AddsToWhatIsLeft()
    {
        var quotas = TenantQuotas("llmTokensPerHour", 100_000);
        Lease(quotas, 100);
        quotas.Commit(quotas.Plan(CheckKind.Llm, 30, Now), Now);

        Lease(quotas, 50);

        Assert.True(quotas.HasLeased(MeteredLimit.LlmTokensPerHour, 120, Now));
        Assert.False(quotas.HasLeased(MeteredLimit.LlmTokensPerHour, 121, Now));
    }

    [Fact]
    public void AddLease_AfterALapsedOne_StartsAfresh()
    {
        var quotas = TenantQuotas("llmTokensPerHour", 100_000);
        Lease(quotas, 100);
        quotas.Commit(quotas.Plan(CheckKind.Llm, 30, Now), Now);
        _time.Advance(LeaseLifetime);

        Lease(quotas, 60);

        // The 70 left of the lapsed lease are the tenant's again, not the agent's.
        Assert.True(quotas.HasLeased(MeteredLimit.LlmTokensPerHour, 60, Now));
        Assert.False(quotas.HasLeased(MeteredLimit.LlmTokensPerHour, 61, Now));
    }

    [Fact]
    public void SetTenantLimits_LimitRemoved_DropsItsLease()
    {
        var quotas = TenantQuotas("llmTokensPerHour", 100_000);
        Lease(quotas, 100);

        quotas.SetTenantLimits(new TenantLimits { Limits = new Dictionary<string, long> { ["networkRequestsPerMinute"] = 1_000 } }, DateTimeOffset.MaxValue);

        Assert.False(quotas.HasLeased(MeteredLimit.LlmTokensPerHour, 1, Now));
        var plan = quotas.Plan(CheckKind.Llm, 10, Now);
        Assert.Null(plan.DenialReason);
        Assert.Empty(plan.Tenant);
    }

    [Theory]
    [InlineData(99_999, false)] // lowered: a lease sized by the old limit would let the agent spend past the new one
    [InlineData(100_000, true)]
    [InlineData(200_000, true)]
    public void SetTenantLimits_LimitLoweredOrNot_DropsOrKeepsItsLease(long newLimit, bool kept)
    {
        var quotas = TenantQuotas("llmTokensPerHour", 100_000);
        Lease(quotas, 100);

        quotas.SetTenantLimits(new TenantLimits { Limits = new Dictionary<string, long> { ["llmTokensPerHour"] = newLimit } }, DateTimeOffset.MaxValue);

        Assert.Equal(kept, quotas.HasLeased(MeteredLimit.LlmTokensPerHour, 100, Now));
    }

    [Fact]
    public void SetTenantLimits_ReadStartedBeforeTheTenantSaidTheyChanged_IsReadAgainByTheNextCheck()
    {
        // The agent asks for the tenant's limits; the tenant changes them and its notice arrives before the old answer.
        var quotas = Quotas(ResourceLimits.None);
        var noticesWhenRead = quotas.TenantLimitsNotices;
        quotas.ExpireTenantLimits();

        quotas.SetTenantLimits(TenantLimits.None, Now.AddSeconds(30), noticesWhenRead);

        Assert.Equal(DateTimeOffset.MinValue, quotas.TenantLimitsRefreshAt);
    }

    [Fact]
    public void SetTenantLimits_ReadAfterTheTenantSaidTheyChanged_IsKeptUntilTheRefresh()
    {
        var quotas = Quotas(ResourceLimits.None);
        quotas.ExpireTenantLimits();
        var noticesWhenRead = quotas.TenantLimitsNotices;

        quotas.SetTenantLimits(new TenantLimits { Limits = new Dictionary<string, long> { ["llmTokensPerHour"] = 1_000 } }, Now.AddSeconds(30), noticesWhenRead);

        Assert.Equal(Now.AddSeconds(30), quotas.TenantLimitsRefreshAt);
        Assert.True(quotas.Meters(CheckKind.Llm));
    }

    [Fact]
    public void Shortfall_PartOfTheCheckLeased_IsTheRestUntilTheLeaseLapses()
    {
        var quotas = TenantQuotas("llmTokensPerHour", 100_000);
        Lease(quotas, 10);

        Assert.Equal((0L, 5L), (quotas.Shortfall(MeteredLimit.LlmTokensPerHour, 10, Now), quotas.Shortfall(MeteredLimit.LlmTokensPerHour, 15, Now)));
        _time.Advance(LeaseLifetime);
        Assert.Equal(15, quotas.Shortfall(MeteredLimit.LlmTokensPerHour, 15, Now));
    }

    [Fact]
    public void AddLease_NothingGranted_DoesNotKeepALiveLeaseFromLapsing()
    {
        var quotas = TenantQuotas("llmTokensPerHour", 100_000);
        Lease(quotas, 100);
        _time.Advance(LeaseLifetime - TimeSpan.FromMinutes(1));

        quotas.AddLease(MeteredLimit.LlmTokensPerHour, new QuotaLease { Granted = 0, ValidUntil = Now + LeaseLifetime, Limited = true, Available = 3 }, Now);
        _time.Advance(TimeSpan.FromMinutes(1));

        Assert.False(quotas.HasLeased(MeteredLimit.LlmTokensPerHour, 1, Now));
        Assert.Equal(100, quotas.TakeReturn(MeteredLimit.LlmTokensPerHour, Now));
    }

    [Fact]
    public void Plan_JustAfterARefusal_DeniesWithoutAskingOnlyWhatTheTenantHadNotLeft()
    {
        var quotas = TenantQuotas("llmTokensPerHour", 100_000);
        Lease(quotas, 10);
        quotas.AddLease(MeteredLimit.LlmTokensPerHour, new QuotaLease { Granted = 0, ValidUntil = Now + LeaseLifetime, Limited = true, Available = 5 }, Now);

        var tooMuch = quotas.Plan(CheckKind.Llm, 16, Now);
        var fits = quotas.Plan(CheckKind.Llm, 15, Now, new MeterPlan());

        Assert.Equal((ReasonCodes.QuotaExceeded, 0), (tooMuch.DenialReason, tooMuch.Tenant.Count));
        Assert.Equal((null, 1), (fits.DenialReason, fits.Tenant.Count(t => t.ToLease >= 5)));
        _time.Advance(AgentQuotas.RefusalRemembered(MeteredLimit.LlmTokensPerHour));
        Assert.Equal((null, 1), (quotas.Plan(CheckKind.Llm, 16, Now).DenialReason, quotas.Plan(CheckKind.Llm, 16, Now).Tenant.Count(t => t.ToLease >= 6)));
    }

    [Fact]
    public void Plan_SeveralTenantLimits_LeasesCountsBeforeAmounts()
    {
        var quotas = new AgentQuotas();
        quotas.Configure(ResourceLimits.None, new Dictionary<string, BucketRecord>());
        quotas.SetTenantLimits(new TenantLimits { Limits = new Dictionary<string, long> { ["llmTokensPerHour"] = 100_000, ["checksPerSecond"] = 100 } }, DateTimeOffset.MaxValue);

        var plan = quotas.Plan(CheckKind.Llm, 10, Now);

        Assert.Equal([MeteredLimit.ChecksPerSecond, MeteredLimit.LlmTokensPerHour], plan.Tenant.Select(t => t.Limit));
    }

    [Fact]
    public void AddLease_PastWhatALongHolds_StopsThere()
    {
        var quotas = TenantQuotas("llmTokensPerHour", long.MaxValue);
        Lease(quotas, long.MaxValue - 1);

        Lease(quotas, 10);

        Assert.True(quotas.HasLeased(MeteredLimit.LlmTokensPerHour, long.MaxValue, Now));
    }

    [Fact]
    public void Plan_AfterARefusal_CountsWhatTheTenantRefilledSince()
    {
        // checksPerSecond of 100 refills one check every 10 ms; its refusal is remembered for a lease's lifetime, 100 ms.
        var quotas = TenantQuotas("checksPerSecond", 100);
        quotas.AddLease(MeteredLimit.ChecksPerSecond, new QuotaLease { Granted = 0, ValidUntil = Now.AddMilliseconds(100), Limited = true, Available = 0 }, Now);

        Assert.Equal(ReasonCodes.RateLimited, quotas.Plan(CheckKind.Llm, null, Now).DenialReason);
        _time.Advance(TimeSpan.FromMilliseconds(10));
        Assert.Null(quotas.Plan(CheckKind.Llm, null, Now).DenialReason);
        Assert.Equal(TimeSpan.FromMilliseconds(100), AgentQuotas.RefusalRemembered(MeteredLimit.ChecksPerSecond));
    }

    [Theory]
    [InlineData("checksPerSecond", "*")] // every check, whatever its kind
    [InlineData("networkRequestsPerMinute", "network:outbound network:inbound")]
    [InlineData("llmTokensPerHour", "llm")]
    [InlineData("fileBytesWrittenPerHour", "fileSystem:write")]
    public void Meters_EachLimit_MetersExactlyItsKindsOfCheckAsTheAgentsOrTheTenants(string limit, string metered)
    {
        // What decides which host calls may stay off the grain: a kind wrongly left out would go unmetered there.
        var expected = metered == "*"
            ? Enum.GetValues<CheckKind>().ToHashSet()
            : metered.Split(' ').Select(c => CheckKinds.TryParse(c, out var kind) ? kind : throw new ArgumentException(c)).ToHashSet();
        var own = Quotas(ResourceLimits.None.With(limit, 1_000));
        var tenants = TenantQuotas(limit, 1_000);

        foreach (var kind in Enum.GetValues<CheckKind>())
        {
            Assert.True(expected.Contains(kind) == own.Meters(kind), $"the grant's {limit} and {kind}");
            Assert.True(expected.Contains(kind) == tenants.Meters(kind), $"the tenant's {limit} and {kind}");
        }
    }

    [Fact]
    public void Meters_TenantUnavailable_MetersEveryKind()
    {
        var quotas = Quotas(ResourceLimits.None);
        quotas.SetTenantLimits(new TenantLimits { Unavailable = true }, DateTimeOffset.MaxValue);

        Assert.All(Enum.GetValues<CheckKind>(), kind => Assert.True(quotas.Meters(kind)));
        Assert.All(Enum.GetValues<CheckKind>(), kind => Assert.False(Quotas(ResourceLimits.None).Meters(kind)));
    }
}

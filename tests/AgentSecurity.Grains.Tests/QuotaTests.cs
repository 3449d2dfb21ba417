using AgentSecurity.Abstractions.Kernel;
using AgentSecurity.Abstractions;
using AgentSecurity.Grains.Tests.Infrastructure;
using AgentSecurity.Grants;
using AgentSecurity.Testing;
using CsCheck;

namespace AgentSecurity.Grains.Tests;

/// <summary>Each limit allows exactly its budget, refills on time, and a denial consumes nothing.</summary>
[Collection(ClusterCollection.Name)]
public sealed class QuotaTests(ClusterFixture fixture)
{
    private DateTimeOffset Now => fixture.Now;

    private async Task<string> AgentWithLimitsAsync(string limits, string agent = "bot")
    {
        var tenant = await fixture.NewTenantAsync();
        await fixture.ApplyAsync(TestDocuments.Grant(tenant, agent, Now).SetJson("resourceLimits", limits).SignWith(TestKeys.Root));
        return tenant;
    }

    private Task<Decision> Check(string tenant, string capability, string? resource = null, long? amount = null, string agent = "bot") =>
        fixture.Client.CheckAsync(tenant, agent, new CheckRequest(capability, resource, amount));

    [Fact]
    public async Task ChecksPerSecond_AllowsExactlyTheBudgetThenRateLimitedThenRefills()
    {
        var tenant = await AgentWithLimitsAsync("""{"checksPerSecond":3}""");

        var first = new List<Decision>();
        for (var i = 0; i < 5; i++)
        {
            first.Add(await Check(tenant, "llm"));
        }

        Assert.Equal([true, true, true, false, false], first.Select(d => d.Allowed));
        Assert.Equal([2L, 1L, 0L], first.Take(3).Select(d => d.Remaining!.Value));
        Assert.Equal(ReasonCodes.RateLimited, first[3].Reason);

        ClusterFixture.Time.Advance(TimeSpan.FromMilliseconds(334));
        Assert.True((await Check(tenant, "llm")).Allowed);
        Assert.False((await Check(tenant, "llm")).Allowed);
    }

    [Fact]
    public async Task ChecksPerSecond_DeniedByTheGrant_ConsumesNothing()
    {
        var tenant = await AgentWithLimitsAsync("""{"checksPerSecond":2}""");

        for (var i = 0; i < 10; i++)
        {
            Assert.Equal(ReasonCodes.OutOfScope, (await Check(tenant, "fileSystem:read", "/etc/shadow")).Reason);
        }

        Assert.True((await Check(tenant, "llm")).Allowed);
        Assert.True((await Check(tenant, "llm")).Allowed);
        Assert.Equal(ReasonCodes.RateLimited, (await Check(tenant, "llm")).Reason);
    }

    [Fact]
    public async Task NetworkRequestsPerMinute_MetersOnlyNetworkChecks()
    {
        var tenant = await AgentWithLimitsAsync("""{"networkRequestsPerMinute":2}""");

        Assert.True((await Check(tenant, "network:outbound", "api.example.com:443")).Allowed);
        Assert.True((await Check(tenant, "llm")).Allowed);
        Assert.True((await Check(tenant, "network:outbound", "api.example.com:443")).Allowed);
        Assert.Equal(ReasonCodes.QuotaExceeded, (await Check(tenant, "network:outbound", "api.example.com:443")).Reason);
        Assert.True((await Check(tenant, "llm")).Allowed);

        ClusterFixture.Time.Advance(TimeSpan.FromSeconds(30));
        Assert.True((await Check(tenant, "network:outbound", "api.example.com:443")).Allowed);
    }

    [Fact]
    public async Task LlmTokensPerHour_MetersTheAmount()
    {
        var tenant = await AgentWithLimitsAsync("""{"llmTokensPerHour":1000}""");

        var big = await Check(tenant, "llm", amount: 600);
        var tooBig = await Check(tenant, "llm", amount: 401);
        var rest = await Check(tenant, "llm", amount: 400);
        var none = await Check(tenant, "llm");

        Assert.Equal((true, 400L), (big.Allowed, big.Remaining!.Value));
        Assert.Equal(ReasonCodes.QuotaExceeded, tooBig.Reason);
        Assert.Equal((true, 0L), (rest.Allowed, rest.Remaining!.Value));
        Assert.Equal(ReasonCodes.InvalidRequest, none.Reason);

        ClusterFixture.Time.Advance(TimeSpan.FromMinutes(36));
        Assert.True((await Check(tenant, "llm", amount: 600)).Allowed);
        Assert.Equal(ReasonCodes.QuotaExceeded, (await Check(tenant, "llm", amount: 1)).Reason);
    }

    [Fact]
    public async Task FileBytesWrittenPerHour_MetersWritesNotReads()
    {
        var tenant = await AgentWithLimitsAsync("""{"fileBytesWrittenPerHour":100}""");

        Assert.True((await Check(tenant, "fileSystem:write", "/workspace/a", 100)).Allowed);
        Assert.True((await Check(tenant, "fileSystem:read", "/workspace/a")).Allowed);
        Assert.Equal(ReasonCodes.QuotaExceeded, (await Check(tenant, "fileSystem:write", "/workspace/a", 1)).Reason);
    }

    [Fact]
    public async Task FileBytesWrittenPerHour_SpentThenPartOfTheHour_RefillsExactlyTheElapsedShare()
    {
        // GCRA: a limit of 1000 bytes/h earns back 1000 × elapsed / 1 h, to the unit, and keeps the fraction.
        var tenant = await AgentWithLimitsAsync("""{"fileBytesWrittenPerHour":1000}""");
        Task<Decision> Write(long bytes) => Check(tenant, "fileSystem:write", "/workspace/out", bytes);

        var first = await Write(400);
        var second = await Write(600);
        var spent = await Write(1);
        Assert.Equal((true, 600L), (first.Allowed, first.Remaining!.Value));
        Assert.Equal((true, 0L), (second.Allowed, second.Remaining!.Value));
        Assert.Equal(ReasonCodes.QuotaExceeded, spent.Reason);

        // 7 minutes earn 1000 × 420 / 3600 = 116.67 bytes: 116 fit, 117 do not, and a denial takes nothing.
        ClusterFixture.Time.Advance(TimeSpan.FromMinutes(7));
        var tooMuch = await Write(117);
        var share = await Write(116);
        var after = await Write(1);
        Assert.Equal(ReasonCodes.QuotaExceeded, tooMuch.Reason);
        Assert.Contains("leaves 116", tooMuch.Message, StringComparison.Ordinal);
        Assert.Equal((true, 0L), (share.Allowed, share.Remaining!.Value));
        Assert.Equal(ReasonCodes.QuotaExceeded, after.Reason);

        // The two thirds of a byte left over are kept: the next byte is due 1.2 s later, not 3.6 s.
        ClusterFixture.Time.Advance(TimeSpan.FromMilliseconds(1199));
        Assert.Equal(ReasonCodes.QuotaExceeded, (await Write(1)).Reason);
        ClusterFixture.Time.Advance(TimeSpan.FromMilliseconds(1));
        Assert.True((await Write(1)).Allowed);

        // A full hour refills the whole budget, and no more: the bucket bursts to its limit, not beyond.
        ClusterFixture.Time.Advance(TimeSpan.FromHours(1));
        var overFull = await Write(1001);
        var full = await Write(1000);
        Assert.Equal(ReasonCodes.QuotaExceeded, overFull.Reason);
        Assert.Equal((true, 0L), (full.Allowed, full.Remaining!.Value));
        Assert.Equal(ReasonCodes.QuotaExceeded, (await Write(1)).Reason);
        Assert.True((await Check(tenant, "fileSystem:read", "/workspace/out")).Allowed);
    }

    [Fact]
    public async Task FileBytesWrittenPerHour_IdleForHours_RefillsOnlyUpToTheBudget()
    {
        var tenant = await AgentWithLimitsAsync("""{"fileBytesWrittenPerHour":500}""");
        Assert.True((await Check(tenant, "fileSystem:write", "/workspace/out", 500)).Allowed);

        ClusterFixture.Time.Advance(TimeSpan.FromHours(5));

        var decisions = new List<Decision>();
        for (var i = 0; i < 6; i++)
        {
            decisions.Add(await Check(tenant, "fileSystem:write", "/workspace/out", 100));
        }

        Assert.Equal([true, true, true, true, true, false], decisions.Select(d => d.Allowed));
        Assert.Equal([400L, 300L, 200L, 100L, 0L], decisions.Take(5).Select(d => d.Remaining!.Value));
        Assert.Equal(ReasonCodes.QuotaExceeded, decisions[5].Reason);
    }

    [Fact]
    public async Task Counters_SurviveDeactivation()
    {
        var tenant = await AgentWithLimitsAsync("""{"llmTokensPerHour":1000}""");
        Assert.True((await Check(tenant, "llm", amount: 900)).Allowed);

        await fixture.DeactivateAllAsync();

        Assert.Equal(ReasonCodes.QuotaExceeded, (await Check(tenant, "llm", amount: 101)).Reason);
        Assert.True((await Check(tenant, "llm", amount: 100)).Allowed);
    }

    [Fact]
    public async Task Counters_AreWrittenPerChunkNotPerCheck()
    {
        var tenant = await AgentWithLimitsAsync("""{"llmTokensPerHour":1000}""");
        var before = fixture.Storage.WriteCount($"{tenant}/bot");

        for (var i = 0; i < 300; i++)
        {
            Assert.True((await Check(tenant, "llm", amount: 1)).Allowed);
        }

        // Chunks of a tenth of the limit, the next reserved when fewer than half a chunk is left: at checks 1, 52, 152, 252.
        Assert.Equal(4, fixture.Storage.WriteCount($"{tenant}/bot") - before);
    }

    [Fact]
    public async Task Counters_PerSecondLimit_ReservesASecondsBudgetAtATime()
    {
        var tenant = await AgentWithLimitsAsync("""{"checksPerSecond":1000}""");
        var before = fixture.Storage.WriteCount($"{tenant}/bot");

        for (var i = 0; i < 300; i++)
        {
            Assert.True((await Check(tenant, "llm")).Allowed);
        }

        // A chunk is at least a second's worth of the limit, so a per-second limit writes at most once a second.
        Assert.Equal(1, fixture.Storage.WriteCount($"{tenant}/bot") - before);
    }

    [Fact]
    public async Task Reservation_StorageFails_DeniesAsUnavailableAndConsumesNothing()
    {
        var tenant = await AgentWithLimitsAsync("""{"checksPerSecond":3}""", agent: "flaky");
        fixture.Storage.FailWritesOf($"{tenant}/flaky");

        Assert.Equal(ReasonCodes.Unavailable, (await Check(tenant, "llm", agent: "flaky")).Reason);
    }

    [Fact]
    public async Task Reservation_WrittenBehindTheAgentsBack_IsAnETagConflictNotADoubleSpend()
    {
        // Another activation (or anyone) writing the agent's record makes this activation's next reservation fail.
        var tenant = await AgentWithLimitsAsync("""{"checksPerSecond":10}""");
        var stored = fixture.Storage.Read("agent", $"{tenant}/bot")!;
        fixture.Storage.Tamper("agent", $"{tenant}/bot", stored);

        var first = await Check(tenant, "llm"); // nothing reserved yet: it must reserve, and that write conflicts

        Assert.Equal(ReasonCodes.Unavailable, first.Reason);
        // The stale activation is gone; the next one starts from storage.
        Assert.True((await Check(tenant, "llm")).Allowed);
    }

    [Fact]
    public async Task Reservation_RunningLow_IsRenewedInTheBackgroundWhileChecksGoOn()
    {
        // llmTokensPerHour 100: chunks of 10; the next chunk is reserved once fewer than 5 are left.
        var tenant = await AgentWithLimitsAsync("""{"llmTokensPerHour":100}""");
        Assert.True((await Check(tenant, "llm", amount: 1)).Allowed); // reserves 10, spends 1
        for (var i = 0; i < 4; i++)
        {
            Assert.True((await Check(tenant, "llm", amount: 1)).Allowed); // 5 left
        }

        using var release = new CancellationTokenSource();
        var renewalStarted = fixture.Storage.HoldNextWriteOf($"{tenant}/bot", Task.Delay(Timeout.Infinite, release.Token).ContinueWith(_ => { }, TaskScheduler.Default));
        Assert.True((await Check(tenant, "llm", amount: 1)).Allowed); // 4 left: the renewal starts
        await renewalStarted.WaitAsync(TimeSpan.FromSeconds(10));

        // While the renewal is held in storage, the reserved units are spent without waiting for it...
        for (var i = 0; i < 4; i++)
        {
            Assert.True((await Check(tenant, "llm", amount: 1).WaitAsync(TimeSpan.FromSeconds(10))).Allowed);
        }

        // ...and only a check beyond them waits, for the renewal, then spends from the new chunk. The kernel counts a
        // check that waits for a reservation as it starts to wait: that count is the marker, not a sleep. (A wait that a
        // test of another cluster in this process counts first only makes the assertion come earlier.)
        using var waits = new MeteringWaitListener("reservation");
        var beyond = Check(tenant, "llm", amount: 1);
        await waits.First.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.False(beyond.IsCompleted);
        release.Cancel();
        var decision = await beyond.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.True(decision.Allowed);
        Assert.Equal(89, decision.Remaining);
    }

    [Fact]
    public async Task ParallelStorm_NeverAllowsMoreThanTheBudget()
    {
        // Model-based: at one frozen instant, concurrent checks of random amounts against one agent must be some
        // serial order of the bucket: what is allowed fits the budget, and every denied amount exceeds what is left.
        var round = 0;
        await Gen.Int[1, 2_000].Select(Gen.Int[1, 300].Array[20, 80]).SampleAsync(async (budget, amounts) =>
        {
            var agent = $"storm{Interlocked.Increment(ref round)}";
            var tenant = await AgentWithLimitsAsync($$"""{"llmTokensPerHour":{{budget}}}""", agent);
            var decisions = await Task.WhenAll(amounts.Select(a => Check(tenant, "llm", amount: a, agent: agent)));

            var allowed = amounts.Where((_, i) => decisions[i].Allowed).Sum(a => (long)a);
            var left = budget - allowed;
            Assert.True(allowed <= budget, $"allowed {allowed} of {budget}");
            Assert.All(amounts.Where((_, i) => !decisions[i].Allowed), denied => Assert.True(denied > left, $"{denied} denied with {left} left"));
            Assert.All(decisions.Where(d => !d.Allowed), d => Assert.Equal(ReasonCodes.QuotaExceeded, d.Reason));
        }, iter: 40, threads: 1);
    }

    /// <summary>What one storm case limits: one of the grant's metered limits, or one of the tenant's (via leases).</summary>
    public enum StormLimit
    {
        ChecksPerSecond,
        NetworkRequestsPerMinute,
        LlmTokensPerHour,
        FileBytesWrittenPerHour,
        MemoryBytesStored,
        TenantChecksPerSecond,
        TenantNetworkRequestsPerMinute,
        TenantLlmTokensPerHour,
        TenantFileBytesWrittenPerHour,
    }

    /// <summary>One storm: a limit and its budget, then requests (metered by the limit or not, with an amount) fired at once.</summary>
    public sealed record StormCase(StormLimit Limit, long Budget, (bool Metered, int Amount)[] Requests)
    {
        public override string ToString() =>
            $"{Limit} budget {Budget}: [{string.Join(", ", Requests.Select(r => r.Metered || Limit is StormLimit.ChecksPerSecond or StormLimit.TenantChecksPerSecond or StormLimit.MemoryBytesStored ? $"{r.Amount}" : "unmetered"))}]";
    }

    private static readonly Gen<StormCase> Storms =
        from limit in Gen.Enum<StormLimit>()
        from budget in UnitCost(limit) ? Gen.Long[1, 16] : limit == StormLimit.MemoryBytesStored ? Gen.Long[1, 240] : Gen.Long[1, 120]
        from requests in Gen.Select(Gen.Int[0, 4].Select(i => i > 0), limit == StormLimit.MemoryBytesStored ? Gen.Int[0, 24] : Gen.Int[1, 20]).Array[1, 24]
        select new StormCase(limit, budget, requests);

    private static bool UnitCost(StormLimit limit) => limit is StormLimit.ChecksPerSecond or StormLimit.NetworkRequestsPerMinute
        or StormLimit.TenantChecksPerSecond or StormLimit.TenantNetworkRequestsPerMinute;

    private static string LimitName(StormLimit limit) => limit switch
    {
        StormLimit.ChecksPerSecond or StormLimit.TenantChecksPerSecond => "checksPerSecond",
        StormLimit.NetworkRequestsPerMinute or StormLimit.TenantNetworkRequestsPerMinute => "networkRequestsPerMinute",
        StormLimit.LlmTokensPerHour or StormLimit.TenantLlmTokensPerHour => "llmTokensPerHour",
        StormLimit.FileBytesWrittenPerHour or StormLimit.TenantFileBytesWrittenPerHour => "fileBytesWrittenPerHour",
        _ => "memoryBytesStored",
    };

    /// <summary>A check the limit meters (at the given amount, where it meters amounts), or one it does not meter.</summary>
    private static CheckRequest StormCheck(StormLimit limit, bool metered, int amount) => (LimitName(limit), metered) switch
    {
        ("checksPerSecond", _) => amount % 2 == 0 ? new CheckRequest("llm", null, null) : new CheckRequest("network:outbound", "api.example.com:443"),
        ("networkRequestsPerMinute", true) => new CheckRequest("network:outbound", "api.example.com:443"),
        ("networkRequestsPerMinute", false) => new CheckRequest("llm", null, null),
        ("llmTokensPerHour", true) => new CheckRequest("llm", null, amount),
        ("llmTokensPerHour", false) => new CheckRequest("network:outbound", "api.example.com:443"),
        ("fileBytesWrittenPerHour", true) => new CheckRequest("fileSystem:write", "/workspace/out", amount),
        _ => new CheckRequest("fileSystem:read", "/workspace/out"),
    };

    [Fact]
    public async Task ParallelStorm_EveryMeteredLimit_AllowsExactlyWhatFitsTheBudget()
    {
        // Model-based, 300 random cases: at one frozen instant, concurrent requests against one agent must behave as
        // some serial order of the limit. So what is allowed fits the budget; nothing is denied that would still have
        // fit (every denied cost exceeds what is left, so unit costs get exactly min(demand, budget)); the allowed
        // requests' remaining (or stored bytes) are a serial witness; each denial has the limit's reason; requests the
        // limit does not meter are all allowed.
        var started = System.Diagnostics.Stopwatch.StartNew();
        var cases = 0;
        var coverage = new System.Collections.Concurrent.ConcurrentDictionary<(StormLimit, bool OverBudget), int>();
        await Storms.SampleAsync(async storm =>
        {
            Interlocked.Increment(ref cases);
            var limit = storm.Limit;
            var name = LimitName(limit);
            var tenantWide = limit.ToString().StartsWith("Tenant", StringComparison.Ordinal);
            var tenant = await fixture.NewTenantAsync();
            if (tenantWide)
            {
                var set = await fixture.Client.Issuer(tenant).SetTenantLimitsAsync(TestDocuments.Limits(tenant, Now, $$"""{"{{name}}":{{storm.Budget}}}""").SignWith(TestKeys.Root));
                Assert.True(set.Accepted, $"{set.Error}: {set.Message}");
            }

            await fixture.ApplyAsync(TestDocuments.Grant(tenant, "bot", Now).SetJson("resourceLimits", tenantWide ? "{}" : $$"""{"{{name}}":{{storm.Budget}}}""").SignWith(TestKeys.Root));
            var bot = fixture.Client.Agent(tenant, "bot");

            // The storm: every request at once, the clock standing still.
            var frozen = Now;
            var requests = limit == StormLimit.MemoryBytesStored ? storm.Requests.Select(r => (Metered: true, r.Amount)).ToArray() : storm.Requests;
            var decisions = limit == StormLimit.MemoryBytesStored
                ? (await Task.WhenAll(requests.Select((r, i) => bot.PutMemoryAsync($"notes/s{i:D2}", new byte[r.Amount])))).Select(m => (m.Decision, (long?)m.StoredBytes)).ToArray()
                : (await Task.WhenAll(requests.Select(r => fixture.Client.CheckAsync(tenant, "bot", StormCheck(limit, r.Metered, r.Amount))))).Select(d => (Decision: d, (long?)null)).ToArray();
            Assert.Equal(frozen, Now);

            // Memory entries count their key's bytes too ("notes/sNN" is 9).
            long Cost(int i) => limit == StormLimit.MemoryBytesStored ? 9 + requests[i].Amount : UnitCost(limit) ? 1 : requests[i].Amount;
            var metered = Enumerable.Range(0, requests.Length).Where(i => requests[i].Metered || limit is StormLimit.ChecksPerSecond or StormLimit.TenantChecksPerSecond).ToList();
            var allowed = metered.Where(i => decisions[i].Item1.Allowed).ToList();
            var denied = metered.Where(i => !decisions[i].Item1.Allowed).ToList();
            var demand = metered.Sum(Cost);
            var spent = allowed.Sum(Cost);
            var left = storm.Budget - spent;
            coverage.AddOrUpdate((limit, demand > storm.Budget), 1, (_, n) => n + 1);

            Assert.True(spent <= storm.Budget, $"allowed {spent} of {storm.Budget}");
            Assert.All(denied, i => Assert.True(Cost(i) > left, $"{Cost(i)} denied ({decisions[i].Item1.Reason}: {decisions[i].Item1.Message}) with {left} left"));
            if (demand <= storm.Budget || UnitCost(limit))
            {
                Assert.Equal(Math.Min(demand, storm.Budget), spent);
            }

            var reason = limit is StormLimit.ChecksPerSecond or StormLimit.TenantChecksPerSecond ? ReasonCodes.RateLimited : ReasonCodes.QuotaExceeded;
            Assert.All(denied, i => Assert.Equal(reason, decisions[i].Item1.Reason));
            Assert.All(Enumerable.Range(0, requests.Length).Except(metered), i => Assert.True(decisions[i].Item1.Allowed, decisions[i].Item1.Message));

            // A serial witness: ordered by what each allowed request saw, every step takes exactly its own cost.
            if (limit == StormLimit.MemoryBytesStored)
            {
                var order = allowed.OrderBy(i => decisions[i].Item2).ToList();
                Assert.Equal(order.Select(Cost).Aggregate(new List<long>(), (sums, c) => { sums.Add(sums.LastOrDefault() + c); return sums; }), order.Select(i => decisions[i].Item2!.Value));
                Assert.Equal(order.Select(i => $"notes/s{i:D2}").Order(StringComparer.Ordinal), fixture.Memory.Entries.Where(e => e.Agent == $"{tenant}/bot").Select(e => e.Key).Order(StringComparer.Ordinal));
            }
            else if (!tenantWide)
            {
                var order = allowed.OrderByDescending(i => decisions[i].Item1.Remaining).ToList();
                Assert.Equal(order.Select(Cost).Aggregate(new List<long>(), (rest, c) => { rest.Add((rest.Count == 0 ? storm.Budget : rest[^1]) - c); return rest; }), order.Select(i => decisions[i].Item1.Remaining!.Value));
            }
        }, iter: 300, threads: 1, print: s => s.ToString());

        Assert.Equal(300, cases);
        Assert.All(Enum.GetValues<StormLimit>(), limit =>
            Assert.True(coverage.GetValueOrDefault((limit, true)) >= 2 && coverage.GetValueOrDefault((limit, false)) >= 1, $"{limit}: too few storms over and within budget"));
        Assert.True(started.Elapsed < TimeSpan.FromSeconds(60), $"300 storms took {started.Elapsed}");
    }

    [Fact]
    public async Task NewGrant_DoesNotResetTheCounters()
    {
        var tenant = await AgentWithLimitsAsync("""{"llmTokensPerHour":1000}""");
        Assert.True((await Check(tenant, "llm", amount: 1000)).Allowed);
        ClusterFixture.Time.Advance(TimeSpan.FromSeconds(1));

        await fixture.ApplyAsync(TestDocuments.Grant(tenant, "bot", Now, "g-2").SetJson("resourceLimits", """{"llmTokensPerHour":1000}""").SignWith(TestKeys.Root));

        Assert.Equal(ReasonCodes.QuotaExceeded, (await Check(tenant, "llm", amount: 10)).Reason);
    }

    [Fact]
    public async Task TenantLimits_AreSharedByAllAgentsOfTheTenant()
    {
        var tenant = await fixture.NewTenantAsync();
        await fixture.ApplyAsync(TestDocuments.Grant(tenant, "a", Now, "ga").SignWith(TestKeys.Root));
        await fixture.ApplyAsync(TestDocuments.Grant(tenant, "b", Now, "gb").SignWith(TestKeys.Root));
        await SetLimitsAsync(tenant, """{"llmTokensPerHour":1000}""");
        ClusterFixture.Time.Advance(TimeSpan.FromSeconds(31)); // agents re-read their tenant's limits

        long allowed = 0;
        for (var i = 0; i < 30; i++)
        {
            allowed += (await Check(tenant, "llm", amount: 50, agent: i % 2 == 0 ? "a" : "b")).Allowed ? 50 : 0;
        }

        Assert.Equal(1000, allowed);
    }

    [Fact]
    public async Task TenantLease_LapsedRemainderReturned_IsLeasableAgainButNeverMoreThanTheAgentWasLeased()
    {
        var tenant = await fixture.NewTenantAsync();
        await SetLimitsAsync(tenant, """{"llmTokensPerHour":1000}""");
        using var kernel = fixture.AsKernel(); // leases are the kernel's own calls
        var quota = fixture.Cluster.Client.GetGrain<ITenantQuotaKernelGrain>(tenant);
        await quota.RefreshAsync();

        Assert.Equal(1000, (await quota.LeaseAsync("a", "llmTokensPerHour", needed: 1, wanted: 1000, returned: 0)).Granted);
        Assert.Equal(0, (await quota.LeaseAsync("a", "llmTokensPerHour", needed: 1, wanted: 1, returned: 500)).Granted); // its lease is live: nothing lapsed

        ClusterFixture.Time.Advance(TimeSpan.FromMinutes(6)); // the lease lapses (a tenth of the hour); 100 tokens refill

        // An agent that was leased nothing gives nothing back, whatever it says; the one that was gives back at most its lease.
        Assert.Equal(100, (await quota.LeaseAsync("b", "llmTokensPerHour", needed: 1, wanted: 5000, returned: 1_000_000)).Granted);
        Assert.Equal(1000, (await quota.LeaseAsync("a", "llmTokensPerHour", needed: 1, wanted: 5000, returned: 1_000_000)).Granted);
        Assert.Equal(0, (await quota.LeaseAsync("a", "llmTokensPerHour", needed: 1, wanted: 1, returned: 1_000_000)).Granted); // settled once
    }

    [Fact]
    public async Task TenantLimits_ManyAgentsSpendingLittle_DoNotTieUpTheBudgetInLeases()
    {
        // 60 agents each spending 10 tokens: fixed leases of a fiftieth (20) would hold 1,200 of a 1,000 budget between
        // them; leases sized by what agents spend leave the rest to whoever needs it.
        var tenant = await fixture.NewTenantAsync();
        await SetLimitsAsync(tenant, """{"llmTokensPerHour":1000}""");
        var agents = Enumerable.Range(0, 61).Select(i => $"a{i}").ToArray();
        foreach (var agent in agents)
        {
            await fixture.ApplyAsync(TestDocuments.Grant(tenant, agent, Now, $"g-{agent}").SignWith(TestKeys.Root));
        }

        ClusterFixture.Time.Advance(TimeSpan.FromSeconds(31)); // agents re-read their tenant's limits
        foreach (var agent in agents[..60])
        {
            Assert.True((await Check(tenant, "llm", amount: 10, agent: agent)).Allowed);
        }

        var big = await Check(tenant, "llm", amount: 400, agent: agents[60]);

        Assert.True(big.Allowed, $"{big.Reason}: {big.Message}");
    }

    [Theory]
    [InlineData(1_001)]
    [InlineData(long.MaxValue)]
    public async Task TenantLimits_CheckNeedingMoreThanTheTenantLimit_IsDeniedAndLeavesTheBudgetToTheOtherAgents(long amount)
    {
        // A check that can never fit the tenant's limit must not lease what is left of it first: the other agents would be
        // refused until that lease lapsed and came back.
        var tenant = await TenantOfAgentsAsync("""{"llmTokensPerHour":1000}""", "greedy", "other");

        var greedy = await Check(tenant, "llm", amount: amount, agent: "greedy");
        var other = await Check(tenant, "llm", amount: 1000, agent: "other");

        Assert.Equal(ReasonCodes.QuotaExceeded, greedy.Reason);
        Assert.True(other.Allowed, $"{other.Reason}: {other.Message}");
    }

    [Fact]
    public async Task TenantLimits_CheckNeedingMoreThanIsLeft_IsDeniedAndTakesNothingOfWhatIsLeft()
    {
        var tenant = await TenantOfAgentsAsync("""{"llmTokensPerHour":1000}""", "first", "late", "small");
        Assert.True((await Check(tenant, "llm", amount: 600, agent: "first")).Allowed);

        var late = await Check(tenant, "llm", amount: 500, agent: "late"); // 400 are left: not enough
        var small = await Check(tenant, "llm", amount: 400, agent: "small");

        Assert.Equal(ReasonCodes.QuotaExceeded, late.Reason);
        Assert.True(small.Allowed, $"{small.Reason}: {small.Message}");
    }

    [Fact]
    public async Task TenantLease_LessLeftThanNeeded_GrantsNothingAndLeavesTheBudget()
    {
        var tenant = await TenantOfAgentsAsync("""{"llmTokensPerHour":1000}""");
        using var kernel = fixture.AsKernel(); // leases are the kernel's own calls
        var quota = fixture.Cluster.Client.GetGrain<ITenantQuotaKernelGrain>(tenant);
        await quota.RefreshAsync();
        Assert.Equal(600, (await quota.LeaseAsync("a", "llmTokensPerHour", needed: 600, wanted: 600, returned: 0)).Granted);

        var tooLittle = await quota.LeaseAsync("b", "llmTokensPerHour", needed: 401, wanted: 1000, returned: 0);
        var rest = await quota.LeaseAsync("c", "llmTokensPerHour", needed: 400, wanted: 1000, returned: 0);

        Assert.Equal((true, 0L), (tooLittle.Limited, tooLittle.Granted));
        Assert.Equal(400, rest.Granted);
    }

    [Theory]
    [InlineData(15, true)]
    [InlineData(16, false)]
    public async Task TenantLimits_CheckPartlyCoveredByItsLease_LeasesOnlyTheRest(long amount, bool fits)
    {
        var tenant = await TenantOfAgentsAsync("""{"llmTokensPerHour":1000}""", "a", "b", "c");
        Assert.True((await Check(tenant, "llm", amount: 10, agent: "a")).Allowed);
        Assert.True((await Check(tenant, "llm", amount: 10, agent: "a")).Allowed); // leases 20: 10 held
        Assert.True((await Check(tenant, "llm", amount: 965, agent: "b")).Allowed); // 5 left

        var partly = await Check(tenant, "llm", amount: amount, agent: "a");
        var rest = await Check(tenant, "llm", amount: 5, agent: "c");

        Assert.Equal((fits, !fits), (partly.Allowed, rest.Allowed));
    }

    [Fact]
    public async Task TenantLimits_OwnReservationCannotBeStored_TakesNothingOfTheTenantsBudget()
    {
        // The agent's own reservation is written before the tenant's lease: a check that fails there holds no lease.
        var tenant = await TenantOfAgentsAsync("""{"llmTokensPerHour":1000}""", "other");
        await fixture.ApplyAsync(TestDocuments.Grant(tenant, "flaky", Now, "g-flaky").SetJson("resourceLimits", """{"llmTokensPerHour":1000}""").SignWith(TestKeys.Root));
        fixture.Storage.FailWritesOf($"{tenant}/flaky");

        var flaky = await Check(tenant, "llm", amount: 1000, agent: "flaky");
        var other = await Check(tenant, "llm", amount: 1000, agent: "other");

        Assert.Equal(ReasonCodes.Unavailable, flaky.Reason);
        Assert.True(other.Allowed, $"{other.Reason}: {other.Message}");
    }

    [Fact]
    public async Task TenantLimits_RaisedAfterTheAgentReadThem_ACheckBetweenTheOldAndTheNewFitsAtOnce()
    {
        // The agent re-reads its tenant's limits every 30 s; the tenant's grain has the new ones at once, and it decides.
        var tenant = await TenantOfAgentsAsync("""{"llmTokensPerHour":1000}""", "bot");
        Assert.True((await Check(tenant, "llm", amount: 10, agent: "bot")).Allowed);
        await ChangeLimitsAsync(tenant, """{"llmTokensPerHour":5000}""");

        var bigger = await Check(tenant, "llm", amount: 3000, agent: "bot");

        Assert.True(bigger.Allowed, $"{bigger.Reason}: {bigger.Message}");
    }

    [Fact]
    public async Task TenantLimits_AddedWhileItsAgentIsActive_HoldForItsNextCheck()
    {
        // The agent has read that its tenant limits nothing, and would not read again for 30 s: the tenant tells it before
        // the administrator's call returns.
        var tenant = await TenantOfAgentsAsync("{}", "bot");
        Assert.True((await Check(tenant, "llm", amount: 3000, agent: "bot")).Allowed);
        await ChangeLimitsAsync(tenant, """{"llmTokensPerHour":1000}""");

        var over = await Check(tenant, "llm", amount: 3000, agent: "bot");
        var within = await Check(tenant, "llm", amount: 10, agent: "bot");

        Assert.Equal(ReasonCodes.QuotaExceeded, over.Reason);
        Assert.True(within.Allowed, $"{within.Reason}: {within.Message}");
    }

    [Fact]
    public async Task TenantLimits_LoweredWhileItsAgentHoldsALease_HoldForItsNextCheck()
    {
        // Two checks leave the agent a lease of about 20,000 tokens sized by the old limit; none of it may be spent past
        // the new one.
        var tenant = await TenantOfAgentsAsync("""{"llmTokensPerHour":1000000}""", "bot");
        Assert.True((await Check(tenant, "llm", amount: 10_000, agent: "bot")).Allowed);
        Assert.True((await Check(tenant, "llm", amount: 10, agent: "bot")).Allowed);
        await ChangeLimitsAsync(tenant, """{"llmTokensPerHour":1000}""");

        var after = await Check(tenant, "llm", amount: 500, agent: "bot");

        Assert.Equal(ReasonCodes.QuotaExceeded, after.Reason); // 10,010 of the hour's tokens are spent: over the new 1,000
    }

    private async Task SetLimitsAsync(string tenant, string limits)
    {
        var set = await fixture.Client.Issuer(tenant).SetTenantLimitsAsync(TestDocuments.Limits(tenant, Now, limits).SignWith(TestKeys.Root));
        Assert.True(set.Accepted, $"{set.Error}: {set.Message}");
    }

    /// <summary>New limits for a tenant that has some: issued a second later, as a replacement must be.</summary>
    private Task ChangeLimitsAsync(string tenant, string limits)
    {
        ClusterFixture.Time.Advance(TimeSpan.FromSeconds(1));
        return SetLimitsAsync(tenant, limits);
    }

    private async Task<string> TenantOfAgentsAsync(string limits, params string[] agents)
    {
        var tenant = await fixture.NewTenantAsync();
        await SetLimitsAsync(tenant, limits);
        foreach (var agent in agents)
        {
            await fixture.ApplyAsync(TestDocuments.Grant(tenant, agent, Now, $"g-{agent}").SignWith(TestKeys.Root));
        }

        ClusterFixture.Time.Advance(TimeSpan.FromSeconds(31)); // agents re-read their tenant's limits
        return tenant;
    }

    [Fact]
    public async Task TenantLimits_SignedByStranger_IsUntrustedSigner()
    {
        var tenant = await fixture.NewTenantAsync();

        var set = await fixture.Client.Issuer(tenant).SetTenantLimitsAsync(TestDocuments.Limits(tenant, Now, """{"checksPerSecond":1}""").SignWith(TestKeys.Stranger));

        Assert.Equal(ReasonCodes.UntrustedSigner, set.Error);
    }

    [Fact]
    public async Task TenantLimits_MaxAgents_RefusesGrantsForMoreAgents()
    {
        var tenant = await fixture.NewTenantAsync();
        await fixture.Client.Issuer(tenant).SetTenantLimitsAsync(TestDocuments.Limits(tenant, Now, "{}", maxAgents: 2).SignWith(TestKeys.Operator));
        await fixture.ApplyAsync(TestDocuments.Grant(tenant, "a", Now, "g1").SignWith(TestKeys.Root));
        await fixture.ApplyAsync(TestDocuments.Grant(tenant, "b", Now, "g2").SignWith(TestKeys.Root));

        var third = await fixture.Client.ApplyGrantAsync(TestDocuments.Grant(tenant, "c", Now, "g3").SignWith(TestKeys.Root));
        ClusterFixture.Time.Advance(TimeSpan.FromSeconds(1));
        var againForA = await fixture.Client.ApplyGrantAsync(TestDocuments.Grant(tenant, "a", Now, "g4").SignWith(TestKeys.Root));

        Assert.Equal(ReasonCodes.QuotaExceeded, third.Error);
        Assert.True(againForA.Applied, $"{againForA.Error}: {againForA.Message}");
    }
}

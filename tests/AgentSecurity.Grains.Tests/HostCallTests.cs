using System.Text;
using AgentSecurity.Abstractions;
using AgentSecurity.Abstractions.Audit;
using AgentSecurity.Grains.Tests.Infrastructure;
using AgentSecurity.Grants;
using AgentSecurity.Testing;

namespace AgentSecurity.Grains.Tests;

/// <summary>
/// Host calls decided on the local path (the picture the agent grain publishes, no message): the grain stays the single
/// decider. A change of the grant is seen by the very next call, metered agents get exactly their limits, denials are
/// recorded once, and allowed calls are counted once, however many executions make them.
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class HostCallTests(ClusterFixture fixture)
{
    private DateTimeOffset Now => fixture.Now;

    private async Task<string> TenantWithAsync(string agent, Func<DocumentTemplate, DocumentTemplate>? change = null)
    {
        var tenant = await fixture.NewTenantAsync();
        var grant = TestDocuments.Grant(tenant, agent, Now);
        await fixture.ApplyAsync((change?.Invoke(grant) ?? grant).SignWith(TestKeys.Root));
        return tenant;
    }

    private Task<ExecutionResult> RunAsync(string tenant, string agent, string code) =>
        fixture.Client.ExecuteAsync(tenant, agent, new ExecutionRequest { Runtime = "js", Code = Encoding.UTF8.GetBytes(code), Input = string.Empty });

    private Task<IReadOnlyList<SecurityEvent>> LoggedAsync(string tenant, Func<IReadOnlyList<SecurityEvent>, bool> until) =>
        fixture.AuditLog.WaitForEventsAsync(tenant, until, TimeSpan.FromSeconds(15));

    /// <summary>An agent "bot" that may use its workspace and fetch from the test's held server.</summary>
    private Task<string> TenantFetchingFromAsync(HeldHttpServer server) =>
        TenantWithAsync("bot", g => g.SetJson("scopes", Scopes("/workspace/**", server.Port)).SetJson("resourceLimits", ClusterFixture.LoadedMachine));

    /// <summary>Code that writes and reads a file (reads are then on the local path), then waits in a fetch the test holds.</summary>
    private static string ReadThenWaitIn(HeldHttpServer server) =>
        $"agentsec.fs.write('/workspace/a.txt', 'mine'); agentsec.fs.read('/workspace/a.txt'); agentsec.http.fetch('http://127.0.0.1:{server.Port}/');";

    private static string Scopes(string fileSystem, int port) => $$"""{"fileSystem":["{{fileSystem}}"],"network":["127.0.0.1:{{port}}"]}""";

    [Fact]
    public async Task ExecuteAsync_HostCallAfterAReplacementNarrowsTheScope_IsDeniedAndRecordedOnce()
    {
        await using var server = new HeldHttpServer();
        var tenant = await TenantFetchingFromAsync(server);

        // Reads the grant allows (the later ones on the local path), then waits in a fetch while the test replaces the grant.
        var running = RunAsync(tenant, "bot", $$"""
            agentsec.fs.write('/workspace/a.txt', 'mine');
            const before = [agentsec.fs.read('/workspace/a.txt'), agentsec.fs.read('/workspace/a.txt'), agentsec.fs.read('/workspace/a.txt')];
            agentsec.http.fetch('http://127.0.0.1:{{server.Port}}/');
            let after; try { after = agentsec.fs.read('/workspace/a.txt'); } catch (e) { after = e.code; }
            agentsec.output(before.join(',') + '|' + after);
            """);
        if (await Task.WhenAny(server.Arrived, running).WaitAsync(TimeSpan.FromSeconds(60)) == running)
        {
            Assert.Fail($"the execution ended before its fetch: {(await running).Error} {(await running).Message}");
        }

        ClusterFixture.Time.Advance(TimeSpan.FromSeconds(1));
        await fixture.ApplyAsync(TestDocuments.Grant(tenant, "bot", Now, "g-2").SetJson("scopes", Scopes("/workspace/other/**", server.Port)).SignWith(TestKeys.Root));
        server.Release();
        var result = await running.WaitAsync(TimeSpan.FromSeconds(60));

        Assert.True(result.Ok, result.Message);
        Assert.Equal("mine,mine,mine|out_of_scope", result.Output);
        var events = await LoggedAsync(tenant, e => e.Any(x => x.Type == SecurityEventTypes.ExecutionCompleted));
        var denial = Assert.Single(events.OfType<DecisionEvent>(), d => d.Type == SecurityEventTypes.CheckDenied);
        Assert.Equal(("fileSystem:read", "/workspace/a.txt", "g-2"), (denial.Capability, denial.Resource, denial.GrantId));
    }

    [Fact]
    public async Task ExecuteAsync_HostCallWhileAQuarantineIsUnderWay_WaitsForTheGrainAndIsDeniedQuarantined()
    {
        await using var server = new HeldHttpServer();
        var tenant = await TenantFetchingFromAsync(server);

        // A read the picture allows, a fetch the test holds, then the same read (the late one) and one out of scope,
        // which the grain decides whatever the picture: the first check the grain sees after the fetch says which it was.
        var running = RunAsync(tenant, "bot", $$"""
            {{ReadThenWaitIn(server)}}
            let late; try { late = agentsec.fs.read('/workspace/a.txt'); } catch (e) { late = e.code; }
            try { agentsec.fs.read('/etc/after'); } catch (e) { }
            agentsec.output(late);
            """);
        if (await Task.WhenAny(server.Arrived, running).WaitAsync(TimeSpan.FromSeconds(60)) == running)
        {
            Assert.Fail($"the execution ended before its fetch: {(await running).Error} {(await running).Message}");
        }

        // The quarantine's turn is held in its outbox's flush: its state is stored, its event on the way to a queue
        // write the test holds, and the permission change not made yet.
        using var hold = FaultyAuditEvents.HoldWrites(tenant, int.MaxValue);
        var quarantine = fixture.Client.QuarantineAsync(TestDocuments.Quarantine(tenant, "bot", Now, reason: "runaway").SignWith(TestKeys.Root));
        await hold.PublishedAsync(SecurityEventTypes.AgentQuarantined).WaitAsync(TimeSpan.FromSeconds(60));

        var check = AgentCheckWatch.NextAsync(tenant);
        server.Release();
        var first = await check.WaitAsync(TimeSpan.FromSeconds(60));
        Assert.Equal(("fileSystem:read", "/workspace/a.txt"), (first.Capability, first.Resource)); // not allowed on the local path

        hold.Release();
        Assert.True((await quarantine.WaitAsync(TimeSpan.FromSeconds(60))).Accepted);
        var result = await running.WaitAsync(TimeSpan.FromSeconds(60));
        Assert.NotEqual("mine", result.Output);
        var events = await LoggedAsync(tenant, e => e.OfType<DecisionEvent>().Any(d => d.Type == SecurityEventTypes.CheckDenied && d.Resource == "/workspace/a.txt"));
        var denial = Assert.Single(events.OfType<DecisionEvent>(), d => d.Type == SecurityEventTypes.CheckDenied && d.Resource == "/workspace/a.txt");
        Assert.Equal(ReasonCodes.Quarantined, denial.Reason);
    }

    [Fact]
    public async Task ExecuteAsync_HostCallsOfARateLimitedAgent_AllowExactlyTheLimit()
    {
        var tenant = await TenantWithAsync("bot", g => g.SetJson("resourceLimits", """{"checksPerSecond":10,"maxCpuMillis":60000,"maxWallMillis":60000}"""));

        // The kernel's clock stands still here: the bucket does not refill while the code runs.
        var result = await RunAsync(tenant, "bot", """
            const codes = [];
            for (let i = 0; i < 15; i++) { try { agentsec.fs.read('/workspace/missing.txt'); codes.push('read'); } catch (e) { codes.push(e.code); } }
            agentsec.output(codes.join(','));
            """);

        Assert.True(result.Ok, result.Message);
        var codes = result.Output!.Split(',');
        Assert.Equal(5, codes.Count(c => c == ReasonCodes.RateLimited));
        Assert.Equal(10, codes.Count(c => c != ReasonCodes.RateLimited));
        Assert.Equal(5, result.Usage.Denied);
        var events = await LoggedAsync(tenant, e => e.Any(x => x.Type == SecurityEventTypes.ExecutionCompleted));
        Assert.Equal(5, events.OfType<DecisionEvent>().Count(d => d.Reason == ReasonCodes.RateLimited));
    }

    [Fact]
    public async Task ExecuteAsync_TenantLimitOnEveryCallSetMidExecution_LimitsTheCallsAfterIt()
    {
        // Reads are decided on the local path while nothing meters them; the tenant's checksPerSecond, set while the code
        // waits in a fetch, counts every call after it (the kernel's clock stands still: the budget does not refill).
        await using var server = new HeldHttpServer();
        var tenant = await TenantFetchingFromAsync(server);
        var running = RunAsync(tenant, "bot", $$"""
            {{ReadThenWaitIn(server)}}
            const codes = [];
            for (let i = 0; i < 5; i++) { try { agentsec.fs.read('/workspace/a.txt'); codes.push('read'); } catch (e) { codes.push(e.code); } }
            agentsec.output(codes.join(','));
            """);
        await server.Arrived.WaitAsync(TimeSpan.FromSeconds(60));
        ClusterFixture.Time.Advance(TimeSpan.FromSeconds(1));
        var set = await fixture.Client.Issuer(tenant).SetTenantLimitsAsync(TestDocuments.Limits(tenant, Now, """{"checksPerSecond":2}""").SignWith(TestKeys.Root));
        Assert.True(set.Accepted, $"{set.Error}: {set.Message}");

        server.Release();

        var result = await running.WaitAsync(TimeSpan.FromSeconds(60));
        Assert.True(result.Ok, result.Message);
        Assert.Equal(["read", "read", ReasonCodes.RateLimited, ReasonCodes.RateLimited, ReasonCodes.RateLimited], result.Output.Split(','));
    }

    [Fact]
    public async Task ExecuteAsync_HostCallsOfAKindNoLimitMeters_AreDecidedWithoutTheGrainWhileMeteredOnesAreNot()
    {
        // Only the agent's tokens are metered: its reads and writes stay on the local path, a model call goes to the grain.
        var tenant = await TenantWithAsync("bot", g => g.SetJson("resourceLimits", """{"llmTokensPerHour":100000,"maxCpuMillis":60000,"maxWallMillis":60000}"""));
        Assert.True((await fixture.Client.CheckAsync(tenant, "bot", new CheckRequest(Capabilities.FileSystemRead, "/workspace/a.txt"))).Allowed); // the agent has read its tenant's limits
        var first = AgentCheckWatch.NextAsync(tenant);

        var result = await RunAsync(tenant, "bot", """
            agentsec.fs.write('/workspace/a.txt', 'mine');
            for (let i = 0; i < 20; i++) agentsec.fs.read('/workspace/a.txt');
            try { agentsec.llm.complete('hello'); } catch (e) { }
            agentsec.output('done');
            """);

        Assert.True(result.Ok, result.Message);
        var check = await first.WaitAsync(TimeSpan.FromSeconds(60));
        Assert.Equal(Capabilities.Llm, check.Capability);
        Assert.Equal(22, result.Usage.HostCalls);
    }

    [Fact]
    public async Task ExecuteAsync_LimitOnEveryCallDroppedMidExecution_LaterCallsGoBackToTheLocalPath()
    {
        // checksPerSecond counts every call, so none is local; a grant without it, applied while the code waits in a fetch,
        // must bring the local path back for the rest of the execution (the first read after it finds the picture out of
        // date; the next read is local, so the first check the grain sees after the second fetch is the out-of-scope read).
        await using var one = new HeldHttpServer();
        await using var two = new HeldHttpServer();
        string Scopes() => $$"""{"fileSystem":["/workspace/**"],"network":["127.0.0.1:{{one.Port}}","127.0.0.1:{{two.Port}}"]}""";
        var tenant = await TenantWithAsync("bot", g => g.SetJson("scopes", Scopes()).SetJson("resourceLimits", """{"checksPerSecond":100000,"maxCpuMillis":60000,"maxWallMillis":60000}"""));
        var running = RunAsync(tenant, "bot", $$"""
            agentsec.fs.write('/workspace/a.txt', 'mine');
            agentsec.http.fetch('http://127.0.0.1:{{one.Port}}/');
            agentsec.fs.read('/workspace/a.txt');
            agentsec.http.fetch('http://127.0.0.1:{{two.Port}}/');
            agentsec.fs.read('/workspace/a.txt');
            try { agentsec.fs.read('/etc/marker'); } catch (e) { }
            agentsec.output('done');
            """);
        await one.Arrived.WaitAsync(TimeSpan.FromSeconds(60));
        ClusterFixture.Time.Advance(TimeSpan.FromSeconds(1));
        await fixture.ApplyAsync(TestDocuments.Grant(tenant, "bot", Now, "g-2").SetJson("scopes", Scopes()).SetJson("resourceLimits", ClusterFixture.LoadedMachine).SignWith(TestKeys.Root));
        one.Release();
        await two.Arrived.WaitAsync(TimeSpan.FromSeconds(60));
        var next = AgentCheckWatch.NextAsync(tenant);

        two.Release();

        Assert.Equal("/etc/marker", (await next.WaitAsync(TimeSpan.FromSeconds(60))).Resource);
        var result = await running.WaitAsync(TimeSpan.FromSeconds(60));
        Assert.True(result.Ok, result.Message);
    }

    [Fact]
    public async Task ExecuteAsync_TwoExecutionsReadingAtOnce_CountEachAllowedReadOnce()
    {
        const int Reads = 300;
        var tenant = await TenantWithAsync("bot", g => g.SetJson("resourceLimits", ClusterFixture.LoadedMachine));
        var written = await RunAsync(tenant, "bot", "agentsec.fs.write('/workspace/shared.txt', 'x'); agentsec.output('ok')");
        Assert.True(written.Ok, written.Message);

        var code = $"for (let i = 0; i < {Reads}; i++) agentsec.fs.read('/workspace/shared.txt'); agentsec.output('done')";
        var results = await Task.WhenAll(RunAsync(tenant, "bot", code), RunAsync(tenant, "bot", code)).WaitAsync(TimeSpan.FromSeconds(60));

        Assert.All(results, r => Assert.True(r.Ok, r.Message));
        Assert.All(results, r => Assert.Equal(Reads, r.Usage.HostCalls));
        // A marker counted after every read was (each execution hands its counts to the audit before it answers): once its
        // summary is on the log, so are all the reads', and a read counted twice would show.
        Assert.True((await fixture.Client.CheckAsync(tenant, "bot", new CheckRequest(Capabilities.MemoryRead, "notes/marker"))).Allowed);
        var events = await LoggedAsync(tenant, e => Allowed(e, Capabilities.MemoryRead) >= 1);
        Assert.Equal(2 * Reads, Allowed(events, Capabilities.FileSystemRead));
        Assert.Equal(1, Allowed(events, Capabilities.FileSystemWrite));

        static long Allowed(IReadOnlyList<SecurityEvent> events, string capability) =>
            events.OfType<DecisionEvent>().Where(d => d.Type == SecurityEventTypes.ChecksAllowed && d.Capability == capability).Sum(d => d.Count);
    }
}

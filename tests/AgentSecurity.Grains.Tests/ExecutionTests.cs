using System.Diagnostics;
using System.Text;
using AgentSecurity.Abstractions;
using AgentSecurity.Abstractions.Audit;
using AgentSecurity.Grains.Tests.Infrastructure;
using AgentSecurity.Grants;
using AgentSecurity.Testing;

namespace AgentSecurity.Grains.Tests;

/// <summary>
/// Executions through the agent grain: the grant decides what may run and every host call is a check on the grain.
/// The runtimes' own hostile corpus is in AgentSecurity.Sandbox.Tests; these tests are about the decision point.
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class ExecutionTests(ClusterFixture fixture)
{
    private DateTimeOffset Now => fixture.Now;

    private async Task<string> TenantWithAsync(string agent, Func<DocumentTemplate, DocumentTemplate>? change = null)
    {
        var tenant = await fixture.NewTenantAsync();
        var grant = TestDocuments.Grant(tenant, agent, Now).SetJson("resourceLimits", ClusterFixture.LoadedMachine);
        await fixture.ApplyAsync((change?.Invoke(grant) ?? grant).SignWith(TestKeys.Root));
        return tenant;
    }

    private Task<ExecutionResult> RunAsync(string tenant, string agent, string runtime, string code, string input = "") =>
        fixture.Client.ExecuteAsync(tenant, agent, new ExecutionRequest { Runtime = runtime, Code = Encoding.UTF8.GetBytes(code), Input = input });

    /// <summary>JavaScript that first makes a host call the grant denies: its denial in the log shows that the code runs.</summary>
    private const string Started = "try { agentsec.http.fetch('http://started.invalid/'); } catch (e) { } ";

    /// <summary>As <see cref="Started"/>, from a shell script: the host call made over the host socket (perl is in every sandbox).</summary>
    private const string StartedFromShell = """
        perl -MIO::Socket::UNIX -e '$h = IO::Socket::UNIX->new(Peer => $ENV{AGENTSEC_HOST_SOCKET}) or die; print $h qq({"op":"http.fetch","arg":"http://started.invalid/"}\n); <$h>'

        """;

    /// <summary>Waits for the denial of <see cref="Started"/>'s host call: a marker from the running code, not a sleep.</summary>
    private async Task WaitUntilStartedAsync(string tenant)
    {
        var events = await LoggedAsync(tenant, e => e.Any(IsStarted));
        Assert.Contains(events, IsStarted);

        static bool IsStarted(SecurityEvent e) => e is DecisionEvent { Type: SecurityEventTypes.CheckDenied, Resource: { } resource } && resource.Contains("started.invalid", StringComparison.Ordinal);
    }

    private Task<IReadOnlyList<SecurityEvent>> LoggedAsync(string tenant, Func<IReadOnlyList<SecurityEvent>, bool> until) =>
        fixture.AuditLog.WaitForEventsAsync(tenant, until, TimeSpan.FromSeconds(15));

    private const string WasmEcho = """
        (module
          (import "agentsec" "input" (func $input (param i32 i32) (result i32)))
          (import "agentsec" "output" (func $output (param i32 i32)))
          (memory (export "memory") 1)
          (func (export "run") (call $output (i32.const 0) (call $input (i32.const 0) (i32.const 1024)))))
        """;

    [Fact]
    public async Task ExecuteAsync_SandboxedGrant_RunsWasmAndJavaScript()
    {
        var tenant = await TenantWithAsync("bot");

        var wasm = await RunAsync(tenant, "bot", "wasm", WasmEcho, "from wasm");
        var js = await RunAsync(tenant, "bot", "js", "agentsec.output(agentsec.input() + '!')", "from js");

        Assert.True(wasm.Ok, wasm.Message);
        Assert.Equal("from wasm", wasm.Output);
        Assert.Equal("g-1", wasm.GrantId);
        Assert.True(js.Ok, js.Message);
        Assert.Equal("from js!", js.Output);
    }

    [Theory]
    [InlineData("external", false, "wasm")]
    [InlineData("external", false, "js")]
    [InlineData("external", true, "process")]
    [InlineData("sandboxed", true, "process")]
    [InlineData("native", false, "process")]
    public async Task ExecuteAsync_IsolationThatForbidsTheRuntime_IsIsolationForbids(string isolation, bool subprocess, string runtime)
    {
        var tenant = await TenantWithAsync("bot", g => g
            .Set("environmentIsolation", isolation)
            .SetJson("capabilities", $$"""{"fileSystem":"write","network":"none","memory":"none","subprocess":{{(subprocess ? "true" : "false")}},"vectorDb":false,"llm":false}"""));

        var result = await RunAsync(tenant, "bot", runtime, "#!/bin/sh\necho ran\n");

        Assert.False(result.Ok);
        Assert.Equal(ReasonCodes.IsolationForbids, result.Error);
        Assert.Empty(result.Output);
    }

    [Fact]
    public async Task ExecuteAsync_NativeGrantWithSubprocess_RunsAProcessInItsWorkspace()
    {
        var tenant = await TenantWithAsync("bot", g => g
            .Set("environmentIsolation", "native")
            .SetJson("capabilities", """{"fileSystem":"write","network":"none","memory":"none","subprocess":true,"vectorDb":false,"llm":false}"""));

        var wrote = await RunAsync(tenant, "bot", "process", "#!/bin/sh\necho kept > /workspace/state.txt\necho ok\n");
        var read = await RunAsync(tenant, "bot", "js", "agentsec.output(agentsec.fs.read('/workspace/state.txt'))");

        Assert.True(wrote.Ok, wrote.Message);
        Assert.Equal("ok\n", wrote.Output);
        Assert.True(read.Ok, read.Message);
        Assert.Equal("kept\n", read.Output);
    }

    [Fact]
    public async Task ExecuteAsync_WithoutAGrant_IsNoGrant()
    {
        var tenant = await fixture.NewTenantAsync();

        var result = await RunAsync(tenant, "nobody", "js", "agentsec.output('ran')");

        Assert.Equal(ReasonCodes.NoGrant, result.Error);
    }

    [Fact]
    public async Task ExecuteAsync_ExpiredGrant_IsExpired()
    {
        var tenant = await TenantWithAsync("bot", g => g.Set("expiresAt", Now.AddMinutes(1)));
        ClusterFixture.Time.Advance(TimeSpan.FromMinutes(2));

        var result = await RunAsync(tenant, "bot", "js", "agentsec.output('ran')");

        Assert.Equal(ReasonCodes.Expired, result.Error);
    }

    [Theory]
    [InlineData("lua", "print(1)")]
    [InlineData("js", "")]
    public async Task ExecuteAsync_BadRequest_IsInvalidRequest(string runtime, string code)
    {
        var tenant = await TenantWithAsync("bot");

        var result = await RunAsync(tenant, "bot", runtime, code);

        Assert.Equal(ReasonCodes.InvalidRequest, result.Error);
    }

    [Fact]
    public async Task ExecuteAsync_HostCalls_AreCheckedAgainstTheGrantAndDenialsAudited()
    {
        var tenant = await TenantWithAsync("bot");

        var result = await RunAsync(tenant, "bot", "js", """
            agentsec.fs.write('/workspace/notes.txt', 'mine');
            agentsec.memory.put('notes/today', 'remember');
            const answers = [agentsec.fs.read('/workspace/notes.txt'), agentsec.memory.get('notes/today'), agentsec.llm.complete('hello')];
            for (const attempt of [() => agentsec.fs.read('/etc/shadow'), () => agentsec.memory.get('secrets/key'), () => agentsec.http.fetch('https://evil.test/')]) {
              try { attempt(); answers.push('allowed?!'); } catch (e) { answers.push(e.code); }
            }
            agentsec.output(answers.join('|'));
            """);

        Assert.True(result.Ok, result.Message);
        Assert.Equal("mine|remember|echo: hello|out_of_scope|out_of_scope|out_of_scope", result.Output);
        Assert.Equal(3, result.Usage.Denied);
        Assert.Equal(8, result.Usage.HostCalls);

        var events = await LoggedAsync(tenant, e => e.Count(x => x.Type == SecurityEventTypes.CheckDenied) >= 3 && e.Any(x => x.Type == SecurityEventTypes.ExecutionCompleted));
        var denials = events.OfType<DecisionEvent>().Where(d => d.Type == SecurityEventTypes.CheckDenied).ToList();
        Assert.Equal(["fileSystem:read /etc/shadow", "memory:read secrets/key", "network:outbound evil.test:443"], denials.Select(d => $"{d.Capability} {d.Resource}"));
        var completed = Assert.IsType<SandboxEvent>(events.Single(e => e.Type == SecurityEventTypes.ExecutionCompleted));
        Assert.Equal("js", completed.Runtime);
        Assert.StartsWith("sha256:", completed.Resource, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ExecuteAsync_FetchToLoopbackWithAnUnscopedGrant_IsASandboxViolation()
    {
        var tenant = await TenantWithAsync("bot", g => g.SetJson("scopes", """{"fileSystem":["/workspace/**"]}"""));

        var result = await RunAsync(tenant, "bot", "js", $"try {{ agentsec.http.fetch('{ClusterFixture.Llm.Address}'); agentsec.output('reached'); }} catch (e) {{ agentsec.output(e.code); }}");

        Assert.True(result.Ok, result.Message);
        Assert.Equal(ReasonCodes.SandboxViolation, result.Output);
    }

    [Fact]
    public async Task ExecuteAsync_FetchToAScopedLoopbackAddress_Reaches()
    {
        var tenant = await TenantWithAsync("bot", g => g.SetJson("scopes", $$"""{"network":["127.0.0.1:{{ClusterFixture.Llm.Port}}"]}"""));

        var result = await RunAsync(tenant, "bot", "js",
            $"agentsec.output(agentsec.http.fetch('{ClusterFixture.Llm.Address}v1/chat/completions', JSON.stringify({{messages: [{{content: 'via fetch'}}]}})))");

        Assert.True(result.Ok, result.Message);
        Assert.Contains("echo: via fetch", result.Output, StringComparison.Ordinal);
    }

    /// <summary>
    /// A grant scoped to one public host, and a root's approval of a request that named no host: the elevation allows any
    /// host, and "any host" means the internet, not the silo's loopback (its own /metrics) or private networks.
    /// </summary>
    [Fact]
    public async Task ExecuteAsync_FetchToLoopbackAllowedOnlyByAnElevationWithoutAHost_IsASandboxViolation()
    {
        var tenant = await TenantWithAsync("bot", g => g.SetJson("scopes", """{"network":["api.example.com:443"]}"""));
        var request = await fixture.Client.RequestPermissionAsync(tenant, "bot", new PermissionRequestInput { Capability = "network:outbound", Justification = "any host" });
        var elevation = TestDocuments.Grant(tenant, "bot", Now, "elev-any")
            .SetJson("capabilities", """{"fileSystem":"none","network":"outbound","memory":"none","subprocess":false,"vectorDb":false,"llm":false}""")
            .Remove("scopes")
            .Set("expiresAt", Now.AddHours(1));
        var applied = await fixture.Client.ApplyElevationAsync(request.RequestId!, elevation.SignWith(TestKeys.Root));
        Assert.True(applied.Applied, $"{applied.Error}: {applied.Message}");
        Assert.True((await fixture.CheckAsync(tenant, "bot", "network:outbound", "other.example.org:443")).Allowed); // the elevation is in force

        var result = await RunAsync(tenant, "bot", "js", $$"""
            const codes = [];
            for (const url of ['{{ClusterFixture.Llm.Address}}', 'http://localhost:{{ClusterFixture.Llm.Port}}/', 'http://[::1]:{{ClusterFixture.Llm.Port}}/', 'http://2130706433:{{ClusterFixture.Llm.Port}}/']) {
              try { agentsec.http.fetch(url); codes.push('reached'); } catch (e) { codes.push(e.code); }
            }
            agentsec.output(codes.join('|'));
            """);

        Assert.True(result.Ok, result.Message);
        Assert.Equal("sandbox_violation|sandbox_violation|sandbox_violation|sandbox_violation", result.Output);
        Assert.Equal(ReasonCodes.InternalAddress, (await fixture.CheckAsync(tenant, "bot", "network:outbound", $"127.0.0.1:{ClusterFixture.Llm.Port}")).Reason);
    }

    [Fact]
    public async Task ExecuteAsync_FetchToLoopbackNamedByAnElevation_Reaches()
    {
        var tenant = await TenantWithAsync("bot", g => g.SetJson("scopes", """{"network":["api.example.com:443"]}"""));
        var loopback = $"127.0.0.1:{ClusterFixture.Llm.Port}";
        var request = await fixture.Client.RequestPermissionAsync(tenant, "bot", new PermissionRequestInput { Capability = "network:outbound", Resource = loopback, Justification = "the local model" });
        var elevation = TestDocuments.Grant(tenant, "bot", Now, "elev-local")
            .SetJson("capabilities", """{"fileSystem":"none","network":"outbound","memory":"none","subprocess":false,"vectorDb":false,"llm":false}""")
            .SetJson("scopes", $$"""{"network":["{{loopback}}"]}""")
            .Set("expiresAt", Now.AddHours(1));
        var applied = await fixture.Client.ApplyElevationAsync(request.RequestId!, elevation.SignWith(TestKeys.Root));
        Assert.True(applied.Applied, $"{applied.Error}: {applied.Message}");

        var result = await RunAsync(tenant, "bot", "js",
            $"agentsec.output(agentsec.http.fetch('{ClusterFixture.Llm.Address}v1/chat/completions', JSON.stringify({{messages: [{{content: 'via elevation'}}]}})))");

        Assert.True(result.Ok, result.Message);
        Assert.Contains("echo: via elevation", result.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ExecuteAsync_LimitHit_IsAuditedAsSandboxViolation()
    {
        var tenant = await TenantWithAsync("bot", g => g.SetJson("resourceLimits", """{"maxCpuMillis":50,"maxWallMillis":60000}"""));

        var result = await RunAsync(tenant, "bot", "js", "for (;;) {}");

        Assert.Equal(ReasonCodes.FuelExhausted, result.Error);
        var events = await LoggedAsync(tenant, e => e.Any(x => x.Type == SecurityEventTypes.SandboxViolation));
        var violation = Assert.IsType<SandboxEvent>(events.Single(e => e.Type == SecurityEventTypes.SandboxViolation));
        Assert.Equal((ReasonCodes.FuelExhausted, "js", "bot"), (violation.Reason, violation.Runtime, violation.AgentId));
    }

    /// <summary>
    /// The hostile corpus through the decision point: each ends with its code, is audited, and the agent goes on. (The
    /// memory bomb's strings stay below the large-object heap, and the CPU budget is generous: the collector's work is
    /// charged to the script, and on a loaded machine a small budget ends the bomb before its memory limit does; the fork
    /// bomb's budget likewise, as its failing forks spin until the process count is next looked at.)
    /// </summary>
    [Theory]
    [InlineData("wasm", "(module (func (export \"run\") (loop $l (br $l))))", "fuel_exhausted", 500)]
    [InlineData("wasm", "(module (import \"wasi_snapshot_preview1\" \"proc_exit\" (func (param i32))) (func (export \"run\")))", "bad_module", 500)]
    [InlineData("wasm", "(module (func $f (call $f)) (func (export \"run\") (call $f)))", "memory_limit", 500)]
    [InlineData("js", "const a = []; for (;;) a.push('x'.repeat(1 << 12));", "memory_limit", 3000)]
    [InlineData("js", "for (;;) console.log('flood'.repeat(1000));", "output_limit", 500)]
    [InlineData("js", "/(a+)+$/.test('a'.repeat(40) + '!')", "timeout", 500)]
    [InlineData("js", "this.constructor.constructor('return process')().exit()", "execution_failed", 500)]
    [InlineData("process", "#!/usr/bin/perl\nfork while 1;\n", "process_limit", 5000)]
    [InlineData("process", "#!/bin/sh\nyes\n", "output_limit", 500)]
    public async Task ExecuteAsync_HostileCode_EndsWithItsCodeIsAuditedAndTheAgentGoesOn(string runtime, string code, string expected, int cpuMillis)
    {
        var tenant = await TenantWithAsync("bot", g => g
            .Set("environmentIsolation", "native")
            .SetJson("capabilities", """{"fileSystem":"write","network":"none","memory":"none","subprocess":true,"vectorDb":false,"llm":false}""")
            .SetJson("resourceLimits", $$"""{"maxCpuMillis":{{cpuMillis}},"maxWallMillis":30000,"maxMemoryBytes":33554432,"maxOutputBytes":20000}"""));

        var result = await RunAsync(tenant, "bot", runtime, code);

        Assert.True(expected == result.Error, $"expected {expected}, got {result.Error}: {result.Message}");
        var type = expected == ReasonCodes.ExecutionFailed ? SecurityEventTypes.ExecutionFailed : SecurityEventTypes.SandboxViolation;
        var events = await LoggedAsync(tenant, e => e.Any(x => x.Type == type));
        var audited = Assert.IsType<SandboxEvent>(events.Single(e => e.Type == type));
        Assert.Equal((expected, runtime), (audited.Reason, audited.Runtime));
        var next = await RunAsync(tenant, "bot", runtime, runtime switch
        {
            "wasm" => WasmEcho,
            "js" => "agentsec.output(agentsec.input())",
            _ => "#!/bin/sh\ncat\n",
        }, "next");
        Assert.True(next.Ok, $"{next.Error}: {next.Message}");
        Assert.Equal("next", next.Output);
        Assert.True((await fixture.CheckAsync(tenant, "bot", "fileSystem:read", "/workspace/a")).Allowed);
    }

    [Fact]
    public async Task ExecuteAsync_NewGrantThatNoLongerAdmitsTheRuntime_StopsTheRunningExecution()
    {
        var tenant = await TenantWithAsync("bot", g => g
            .Set("environmentIsolation", "native")
            .SetJson("capabilities", """{"fileSystem":"write","network":"none","memory":"none","subprocess":true,"vectorDb":false,"llm":false}"""));
        var running = RunAsync(tenant, "bot", "process", "#!/bin/sh\n" + StartedFromShell + "sleep 60\n");
        await WaitUntilStartedAsync(tenant);
        ClusterFixture.Time.Advance(TimeSpan.FromSeconds(1));

        await fixture.ApplyAsync(TestDocuments.Grant(tenant, "bot", Now, "g-2").SignWith(TestKeys.Root)); // sandboxed
        var result = await running.WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Equal(ReasonCodes.IsolationForbids, result.Error);
        Assert.Contains("new grant g-2", result.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ExecuteAsync_GrantExpiringWhileCodeRuns_StopsIt()
    {
        var tenant = await TenantWithAsync("bot", g => g
            .Set("expiresAt", Now.AddMinutes(1)));
        var running = RunAsync(tenant, "bot", "js", Started + "for (;;) {}");
        await WaitUntilStartedAsync(tenant);

        ClusterFixture.Time.Advance(TimeSpan.FromMinutes(2));
        var result = await running.WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Equal(ReasonCodes.Expired, result.Error);
    }

    [Fact]
    public async Task ExecuteAsync_FetchToAnIPv6Literal_IsCheckedAsTheBracketedAddress()
    {
        var tenant = await TenantWithAsync("bot", g => g.SetJson("scopes", """{"network":["[::1]:9"]}"""));

        var result = await RunAsync(tenant, "bot", "js", """
            const got = [];
            for (const url of ['http://[::1]:9/', 'http://[2606:4700::1111]:9/', 'http://[::2]:9/', 'http://[fe80::1%25eth0]:9/']) {
              try { agentsec.http.fetch(url); got.push('reached'); } catch (e) { got.push(e.code); }
            }
            agentsec.output(got.join('|'));
            """);

        Assert.True(result.Ok, result.Message);
        // [::1]:9 is allowed, then nothing listens on port 9; ::2 is 0.0.0.2 in IPv4-compatible form, an internal address.
        Assert.Equal("upstream_error|out_of_scope|sandbox_violation|invalid_request", result.Output);
    }

    [Fact]
    public async Task ExecuteAsync_RunningExecution_NeverBlocksChecksOfTheSameAgent()
    {
        var tenant = await TenantWithAsync("bot", g => g.SetJson("resourceLimits", """{"maxCpuMillis":60000,"maxWallMillis":3000}"""));
        var running = RunAsync(tenant, "bot", "js", Started + "for (;;) {}");
        await WaitUntilStartedAsync(tenant);

        var watch = Stopwatch.StartNew();
        for (var i = 0; i < 20; i++)
        {
            Assert.True((await fixture.CheckAsync(tenant, "bot", "llm")).Allowed);
        }

        var checks = watch.Elapsed;
        Assert.False(running.IsCompleted);
        Assert.True(checks < TimeSpan.FromSeconds(1), $"20 checks took {checks} while an execution ran");
        Assert.Equal(ReasonCodes.Timeout, (await running).Error);
    }

    [Fact]
    public async Task ExecuteAsync_MoreThanMaxConcurrentExecutions_IsQuotaExceeded()
    {
        // 8 s of wall time: the loop runs on until the second call is refused.
        var tenant = await TenantWithAsync("bot", g => g.SetJson("resourceLimits", """{"maxConcurrentExecutions":1,"maxCpuMillis":60000,"maxWallMillis":8000}"""));
        var first = RunAsync(tenant, "bot", "js", Started + "for (;;) {}");
        await WaitUntilStartedAsync(tenant);

        var second = await RunAsync(tenant, "bot", "js", "agentsec.output('second')");

        Assert.Equal(ReasonCodes.QuotaExceeded, second.Error);
        Assert.Equal(ReasonCodes.Timeout, (await first).Error);
        Assert.True((await RunAsync(tenant, "bot", "js", "agentsec.output('third')")).Ok);
    }

    /// <summary>
    /// An agent's wall-clock limit is its code's: waiting for a free JavaScript worker on a busy silo is not charged to it.
    /// The execution (2 s of wall time) waits for its runtime longer than that and the kernel's 1 s of grace; once the
    /// runtime takes it, its code runs.
    /// </summary>
    [Fact]
    public async Task ExecuteAsync_WaitsToStartLongerThanItsWallLimit_RunsOnceStarted()
    {
        var tenant = await TenantWithAsync("bot", g => g.SetJson("resourceLimits", """{"maxCpuMillis":60000,"maxWallMillis":2000}"""));
        Task<ExecutionResult> waiting;
        using (HeldStarts.Hold(tenant))
        {
            waiting = RunAsync(tenant, "bot", "js", "agentsec.output('ran')");

            // The time passing is what is tested: past the 2 s and the kernel's 1 s of grace, the code has not started.
            await Task.Delay(TimeSpan.FromSeconds(4.5));
            if (waiting.IsCompleted)
            {
                var early = await waiting;
                Assert.Fail($"answered before its code started: {early.Error}: {early.Message}");
            }
        }

        var result = await waiting.WaitAsync(TimeSpan.FromSeconds(60));

        Assert.True(result.Ok, $"{result.Error}: {result.Message}");
        Assert.Equal("ran", result.Output);
    }

    /// <summary>
    /// Once its runtime has started the code, the kernel's own deadline holds the execution to its wall-clock limit even
    /// when the runtime never ends it (a runtime's own clocks are its; the kernel's is behind them all).
    /// </summary>
    [Fact]
    public async Task ExecuteAsync_StartedByARuntimeThatNeverEndsIt_IsStoppedAtItsWallLimitByTheKernel()
    {
        var tenant = await TenantWithAsync("bot", g => g.SetJson("resourceLimits", """{"maxCpuMillis":60000,"maxWallMillis":500}"""));
        HeldStarts.Stall(tenant);
        var watch = Stopwatch.StartNew();

        var result = await RunAsync(tenant, "bot", "js", "agentsec.output('never')").WaitAsync(TimeSpan.FromSeconds(60));

        Assert.Equal(ReasonCodes.Timeout, result.Error);
        Assert.Equal("the execution ran past its wall-clock limit (500 ms)", result.Message);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(14), $"stopped after {watch.Elapsed}: not by the wall clock (500 ms and 1 s of grace)");
    }

    [Fact]
    public async Task ExecuteAsync_QuarantineWhileRunning_StopsAnInfiniteLoopPromptly()
    {
        var tenant = await TenantWithAsync("bot");
        var wasm = RunAsync(tenant, "bot", "wasm", """(module (func (export "run") (loop $l (br $l))))""");
        var js = RunAsync(tenant, "bot", "js", Started + "for (;;) {}");
        await WaitUntilStartedAsync(tenant);
        Assert.False(wasm.IsCompleted || js.IsCompleted);

        var watch = Stopwatch.StartNew();
        var quarantine = await fixture.Client.QuarantineAsync(TestDocuments.Quarantine(tenant, "bot", Now, reason: "runaway").SignWith(TestKeys.Root));
        var results = await Task.WhenAll(wasm, js).WaitAsync(TimeSpan.FromSeconds(10));

        Assert.True(quarantine.Accepted);
        Assert.All(results, r => Assert.Equal(ReasonCodes.Quarantined, r.Error));
        // Far inside the 60 s limits (under 0.2 s on a quiet machine; a loaded one took 4.5 s to kill the worker's tree).
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(8), $"stopping took {watch.Elapsed}");
        Assert.Equal(ReasonCodes.Quarantined, (await RunAsync(tenant, "bot", "js", "agentsec.output(1)")).Error);
    }

    [Fact]
    public async Task ExecuteAsync_RevocationWhileRunning_StopsTheExecution()
    {
        var tenant = await TenantWithAsync("bot");
        var running = RunAsync(tenant, "bot", "js", Started + "for (;;) {}");
        await WaitUntilStartedAsync(tenant);

        var revoked = await fixture.Client.RevokeAsync(TestDocuments.Revocation(tenant, "g-1", Now).SignWith(TestKeys.Root));
        var result = await running.WaitAsync(TimeSpan.FromSeconds(10));

        Assert.True(revoked.Revoked, revoked.Message);
        Assert.Equal(ReasonCodes.Revoked, result.Error);
    }

    [Fact]
    public async Task ExecuteAsync_HostCallsAfterQuarantine_AreDeniedEvenBeforeTheStopLands()
    {
        var tenant = await TenantWithAsync("bot");
        await fixture.Client.QuarantineAsync(TestDocuments.Quarantine(tenant, "bot", Now).SignWith(TestKeys.Root));

        var result = await RunAsync(tenant, "bot", "js", "agentsec.output('ran')");

        Assert.Equal(ReasonCodes.Quarantined, result.Error);
    }

    [Fact]
    public async Task ExecuteAsync_OtherAgentsMemoryAndFiles_AreOutOfReach()
    {
        var tenant = await TenantWithAsync("victim");
        await fixture.ApplyAsync(TestDocuments.Grant(tenant, "intruder", Now, "g-2").SetJson("resourceLimits", ClusterFixture.LoadedMachine).SignWith(TestKeys.Root));
        Assert.True((await RunAsync(tenant, "victim", "js", "agentsec.memory.put('notes/secret', 's3cret'); agentsec.fs.write('/workspace/secret.txt', 's3cret')")).Ok);

        var result = await RunAsync(tenant, "intruder", "js", """
            const got = [];
            for (const attempt of [() => agentsec.memory.get('notes/secret'), () => agentsec.fs.read('/workspace/secret.txt'),
                                   () => agentsec.fs.read('/workspace/../victim/secret.txt'), () => agentsec.memory.get('../victim/notes/secret')]) {
              try { got.push(String(attempt())); } catch (e) { got.push(e.code); }
            }
            agentsec.output(got.join('|'));
            """);

        Assert.True(result.Ok, result.Message);
        Assert.DoesNotContain("s3cret", result.Output, StringComparison.Ordinal);
        Assert.Equal("null|not_found|invalid_resource|invalid_resource", result.Output);
    }
}

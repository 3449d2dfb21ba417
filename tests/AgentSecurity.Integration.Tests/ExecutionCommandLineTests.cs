using System.Text.Json;
using AgentSecurity.Abstractions.Audit;
using AgentSecurity.Grants;
using AgentSecurity.Integration.Tests.Infrastructure;
using AgentSecurity.Testing;

namespace AgentSecurity.Integration.Tests;

/// <summary>
/// <c>agentsec run</c> against a silo process on Azurite: the worked examples of docs/sandboxes.md in every runtime,
/// their host calls checked against the grant, and what they were denied in the tenant's audit log.
/// </summary>
[Collection(ClusterProcessCollection.Name)]
public sealed class ExecutionCommandLineTests(ClusterProcessFixture cluster)
{
    private static string Example(string name) => Path.Combine(RepositoryPaths.Root, "docs", "examples", name);

    private async Task<string> TenantWithAgentAsync(string agent, params string[] grantOptions)
    {
        var tenant = "run-" + Guid.NewGuid().ToString("N")[..10];
        var rootKey = cluster.PathOf($"{tenant}-root.key");
        var root = (await cluster.AgentsecAsync("key", "new", "--out", rootKey, "--json")).Field("did");
        Assert.Equal(0, (await cluster.AgentsecAsync("tenant", "create", tenant, "--root", root, "--operator-key", cluster.OperatorKeyFile, "--json")).ExitCode);
        var grant = cluster.PathOf($"{tenant}-{agent}.grant.json");
        var signed = await cluster.AgentsecAsync(["grant", "sign", "--key", rootKey, "--tenant", tenant, "--agent", agent, "--out", grant, .. grantOptions]);
        Assert.True(signed.ExitCode == 0, signed.ToString());
        var applied = await cluster.AgentsecAsync("grant", "apply", grant, "--json");
        Assert.True(applied.ExitCode == 0, applied.ToString());
        return tenant;
    }

    /// <summary>Room for a worker to start on a loaded machine (the default wall limit is 5 s); the limits' own tests set theirs.</summary>
    private static readonly string[] LoadedMachine = ["--limit", "maxWallMillis=60000"];

    private static readonly string[] NativeWorker =
        ["--fs", "write", "--scope", "fileSystem=/workspace/**", "--memory", "write", "--scope", "memory=notes/**", "--isolation", "native", "--subprocess", .. LoadedMachine];

    [Fact]
    public async Task Run_WorkedExamples_RunInEveryRuntimeWithTheirHostCallsChecked()
    {
        var tenant = await TenantWithAgentAsync("worker", NativeWorker);

        var js = await cluster.AgentsecAsync("run", $"{tenant}/worker", "--runtime", "js", Example("word-count.js"), "--input", "three little words", "--json");
        var wasm = await cluster.AgentsecAsync("run", $"{tenant}/worker", "--runtime", "wasm", Example("store-input.wat"), "--input", "kept by wasm", "--json");
        var process = await cluster.AgentsecAsync("run", $"{tenant}/worker", "--runtime", "process", Example("count-lines.sh"), "--input", "a\nb\n", "--json");

        Assert.True(js.ExitCode == 0, js.ToString());
        AssertRunShape(js.Json, ok: true);
        Assert.Equal("3 words now, 3 in all\nreading /etc/passwd: out_of_scope (denied by the grant: true)\n", js.Field("output"));
        Assert.Equal(1, js.Json.GetProperty("usage").GetProperty("denied").GetInt64());
        Assert.Equal(5, js.Json.GetProperty("usage").GetProperty("hostCalls").GetInt64());

        Assert.True(wasm.ExitCode == 0, wasm.ToString());
        Assert.StartsWith("stored the input\nreading /etc/passwd: out_of_scope: ", wasm.Field("output"), StringComparison.Ordinal);

        Assert.True(process.ExitCode == 0, process.ToString());
        var lines = process.Field("output").Split('\n');
        Assert.Equal("wrote /workspace/lines.txt: 2 lines", lines[0]);
        Assert.Equal("{\"ok\":true,\"value\":\"3\"}", lines[1]); // the memory the JavaScript run left
        Assert.StartsWith("{\"ok\":false,\"error\":\"out_of_scope\"", lines[2], StringComparison.Ordinal);

        // The three denied reads are in the tenant's log as the checks they were, with each execution.
        var events = await AuditEventsAsync(tenant, e => e.Count(x => x.GetProperty("type").GetString() == SecurityEventTypes.ExecutionCompleted) >= 3
            && e.Count(x => x.GetProperty("type").GetString() == SecurityEventTypes.CheckDenied) >= 3);
        var denials = events.Where(e => e.GetProperty("type").GetString() == SecurityEventTypes.CheckDenied).ToList();
        Assert.Equal(3, denials.Count);
        Assert.All(denials, d => Assert.Equal(("fileSystem:read", "/etc/passwd", ReasonCodes.OutOfScope),
            (d.GetProperty("capability").GetString(), d.GetProperty("resource").GetString(), d.GetProperty("reason").GetString())));
        Assert.Equal(["js", "wasm", "process"], events.Where(e => e.GetProperty("type").GetString() == SecurityEventTypes.ExecutionCompleted).Select(e => e.GetProperty("runtime").GetString()));
    }

    [Fact]
    public async Task Run_GrantValidForMonths_Runs()
    {
        // The kernel's clock is the real one here: an expiry further ahead than a timer can be set once broke executions.
        var tenant = await TenantWithAgentAsync("patient", ["--fs", "read", "--expires-in", "90d", .. LoadedMachine]);
        var script = cluster.PathOf($"{tenant}-hello.js");
        await File.WriteAllTextAsync(script, "agentsec.output('still valid')");

        var run = await cluster.AgentsecAsync("run", $"{tenant}/patient", "--runtime", "js", script, "--json");

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Equal("still valid", run.Field("output"));
    }

    [Fact]
    public async Task Run_IsolationOrLimitRefusals_ExitOneWithTheirCodes()
    {
        var tenant = await TenantWithAgentAsync("outsider", "--fs", "read", "--isolation", "external");
        var sandboxed = await TenantWithAgentAsync("looper", ["--fs", "read", "--limit", "maxCpuMillis=100", .. LoadedMachine]);
        var loop = cluster.PathOf($"{sandboxed}-loop.js");
        await File.WriteAllTextAsync(loop, "for (;;) {}");

        var external = await cluster.AgentsecAsync("run", $"{tenant}/outsider", "--runtime", "js", Example("word-count.js"), "--json");
        var native = await cluster.AgentsecAsync("run", $"{sandboxed}/looper", "--runtime", "process", Example("count-lines.sh"), "--json");
        var fuel = await cluster.AgentsecAsync("run", $"{sandboxed}/looper", "--runtime", "js", loop, "--json");
        var human = await cluster.AgentsecAsync("run", $"{sandboxed}/looper", "--runtime", "js", loop);

        Assert.Equal(1, external.ExitCode);
        AssertRunShape(external.Json, ok: false);
        Assert.Equal(ReasonCodes.IsolationForbids, external.Field("error"));
        Assert.Equal(1, native.ExitCode);
        Assert.Equal(ReasonCodes.IsolationForbids, native.Field("error"));
        Assert.Equal(1, fuel.ExitCode);
        Assert.Equal(ReasonCodes.FuelExhausted, fuel.Field("error"));
        Assert.Equal(1, human.ExitCode);
        Assert.Contains("FAILED fuel_exhausted", human.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Run_UnknownRuntimeOrMissingFile_IsAUsageError()
    {
        var badRuntime = await cluster.AgentsecAsync("run", "acme/bot", "--runtime", "python", Example("word-count.js"), "--json");
        var missing = await cluster.AgentsecAsync("run", "acme/bot", "--runtime", "js", cluster.PathOf("no-such.js"), "--json");

        Assert.Equal(2, badRuntime.ExitCode);
        Assert.Equal(2, missing.ExitCode);
        Assert.Equal("usage", missing.Field("error"));
    }

    private static void AssertRunShape(JsonElement run, bool ok)
    {
        Assert.Equal(ok, run.GetProperty("ok").GetBoolean());
        Assert.Equal(JsonValueKind.String, run.GetProperty("output").ValueKind);
        Assert.Equal(ok ? JsonValueKind.Null : JsonValueKind.String, run.GetProperty("error").ValueKind);
        var usage = run.GetProperty("usage");
        foreach (var name in new[] { "cpuMillis", "wallMillis", "memoryBytes", "hostCalls", "denied" })
        {
            Assert.Equal(JsonValueKind.Number, usage.GetProperty(name).ValueKind);
        }
    }

    private async Task<List<JsonElement>> AuditEventsAsync(string tenant, Func<List<JsonElement>, bool> until)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (true)
        {
            var tail = await cluster.AgentsecAsync("audit", "tail", tenant, "--last", "100", "--json");
            var events = tail.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement.Clone()).ToList();
            if (until(events) || DateTime.UtcNow > deadline)
            {
                return events;
            }

            await Task.Delay(500); // a poll of another process (agentsec audit tail) with a deadline
        }
    }
}

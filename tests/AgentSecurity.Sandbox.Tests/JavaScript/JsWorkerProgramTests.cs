using System.Text;
using System.Text.Json;
using AgentSecurity.Grants;
using AgentSecurity.Sandbox.Host;
using AgentSecurity.Sandbox.JavaScript;
using AgentSecurity.Sandbox.Tests.Infrastructure;
using AgentSecurity.Sandbox.Worker;

namespace AgentSecurity.Sandbox.Tests.JavaScript;

/// <summary>
/// What a worker does before its job, run in this process through the worker's own functions: the engine it builds
/// before the job (<see cref="PreparedEngine"/>) enforces the job's limits, not the ones it was built with, and the
/// keep-warm jobs it runs while it waits leave nothing the job can see. In this process rather than in a pooled worker
/// because the waits for the job are then counted (a pooled worker's depend on the time it idles) and each case would
/// otherwise cost a worker's start.
/// </summary>
public sealed class JsWorkerProgramTests
{
    private static readonly long Prepared = new SandboxLimits().MemoryBytes;

    private static readonly SandboxLimits Fitting = Jobs.Limits with { MemoryBytes = Prepared };

    /// <summary>
    /// Three keep-warm jobs that leave a global, pollute a prototype, write output and make a host call run before the
    /// job: the job's engine, output and host see none of it, and the result says how many ran.
    /// </summary>
    [Fact]
    public void KeepWarmThenRun_AfterKeepWarmJobs_TheJobSeesNothingOfThem()
    {
        const string KeepWarm = "globalThis.kw = 'leaked'; Object.prototype.polluted = 1; agentsec.call('memory.get', 'warm'); agentsec.output('warm output');";
        const string Job = "agentsec.call('memory.get', 'mine'); agentsec.output(agentsec.input() + '|' + typeof kw + '|' + typeof ({}).polluted);";
        var host = FakeHostApi.AllowingEverything();
        var waits = 0;
        using var engine = new PreparedEngine(Prepared);
        using var output = new MemoryStream();

        var ran = JsWorkerProgram.KeepWarmThenRun(() => ++waits > 3, Line(KeepWarm, string.Empty), new StringReader(Line(Job, "hello") + "\n"), output, host, engine);

        Assert.True(ran);
        var result = JsonSerializer.Deserialize(Encoding.UTF8.GetString(output.ToArray()).TrimEnd('\n'), WorkerJson.Default.WorkerResult)!;
        Assert.Null(result.Error);
        Assert.Equal("hello|undefined|undefined", result.Output);
        Assert.Equal(3, result.KeepWarmJobs);
        Assert.Equal(new HostCall("memory.get", "mine"), Assert.Single(host.Calls));
    }

    /// <summary>
    /// An engine built before its job knew no limit but the memory limit: the job's CPU budget, wall-clock limit, memory
    /// limit and recursion limit still end it, and it was that engine that ran it (it refuses a second execution).
    /// </summary>
    [Theory]
    [InlineData("for (;;) {}", 50, 10_000, ReasonCodes.FuelExhausted)]
    [InlineData("for (;;) {}", 30_000, 300, ReasonCodes.Timeout)]
    [InlineData("const kept = []; for (let i = 0; ; i++) kept.push('x'.repeat(1000) + i);", 30_000, 30_000, ReasonCodes.MemoryLimit)]
    [InlineData("function f(n) { return f(n + 1) + 1; } f(0);", 30_000, 30_000, ReasonCodes.MemoryLimit)]
    public void RunOnThisThread_OnAnEngineBuiltBeforeTheJob_EnforcesTheJobsLimits(string script, int cpuMillis, int wallMillis, string error)
    {
        using var engine = new PreparedEngine(Prepared);
        var limits = Fitting with { CpuTime = TimeSpan.FromMilliseconds(cpuMillis), WallTime = TimeSpan.FromMilliseconds(wallMillis) };

        var result = OnScriptThread(() => JavaScriptRuntime.RunOnThisThread(Encoding.UTF8.GetBytes(script), string.Empty, limits, FakeHostApi.AllowingEverything(), engine));

        Assert.Equal(error, result.Error);
        Assert.Throws<InvalidOperationException>(() => OnScriptThread(() => JavaScriptRuntime.RunOnThisThread(Encoding.UTF8.GetBytes("1"), string.Empty, limits, FakeHostApi.AllowingEverything(), engine)));
    }

    /// <summary>
    /// The statement count is the job's CPU budget in statements, bound when the job came, not the unbounded count the
    /// engine was built with: the CPU clock alone would end a loop too, so this reads the limit itself.
    /// </summary>
    [Fact]
    public void RunOnThisThread_OnAnEngineBuiltBeforeTheJob_CountsStatementsAgainstTheJobsBudget()
    {
        using var engine = new PreparedEngine(Prepared);
        var limits = Fitting with { CpuTime = TimeSpan.FromMilliseconds(7) };

        var result = OnScriptThread(() => JavaScriptRuntime.RunOnThisThread(Encoding.UTF8.GetBytes("let i = 0; while (true) { i++; }"), string.Empty, limits, FakeHostApi.AllowingEverything(), engine));

        Assert.Equal(ReasonCodes.FuelExhausted, result.Error);
        Assert.Equal(7 * JavaScriptRuntime.StatementsPerCpuMillisecond, engine.StatementLimit);
    }

    /// <summary>
    /// A job whose memory limit (8 MiB) is not the one the engine was built for (64 MiB) runs on an engine built for its
    /// own: 12 MiB of strings end it with <c>memory_limit</c>, and the engine built before stays unused.
    /// </summary>
    [Fact]
    public void RunOnThisThread_JobWithAnotherMemoryLimit_RunsOnAnEngineBuiltForIt()
    {
        const string Twelve = "const kept = []; for (let i = 0; i < 12; i++) kept.push('x'.repeat(1 << 19) + i); agentsec.output('kept ' + kept.length);";
        using var engine = new PreparedEngine(Prepared);
        var host = FakeHostApi.AllowingEverything();

        var small = OnScriptThread(() => JavaScriptRuntime.RunOnThisThread(Encoding.UTF8.GetBytes(Twelve), string.Empty, Fitting with { MemoryBytes = 8L << 20 }, host, engine));
        var fitting = OnScriptThread(() => JavaScriptRuntime.RunOnThisThread(Encoding.UTF8.GetBytes(Twelve), string.Empty, Fitting, host, engine));

        Assert.Equal(ReasonCodes.MemoryLimit, small.Error);
        Assert.True(fitting.Ok, $"{fitting.Error}: {fitting.Message}");
        Assert.Equal("kept 12", fitting.Output);
    }

    private static string Line(string script, string input) => JsonSerializer.Serialize(
        new WorkerJob { Code = Encoding.UTF8.GetBytes(script), Input = input, WallMillis = 10_000, CpuMillis = 5_000, MemoryBytes = Prepared, OutputBytes = 64 * 1024, HostCalls = 100 },
        WorkerJson.Default.WorkerJob);

    /// <summary>On a thread with the stack scripts get in a worker, as the worker runs them; rethrows what it threw.</summary>
    private static SandboxResult OnScriptThread(Func<SandboxResult> run)
    {
        SandboxResult? result = null;
        Exception? thrown = null;
        var thread = new Thread(() =>
        {
            try
            {
                result = run();
            }
#pragma warning disable CA1031 // Rethrown on the test's thread.
            catch (Exception e)
#pragma warning restore CA1031
            {
                thrown = e;
            }
        }, JavaScriptRuntime.ThreadStackBytes);
        thread.Start();
        thread.Join();
        return thrown is null ? result! : throw thrown;
    }
}

using System.Diagnostics;
using AgentSecurity.Grants;
using AgentSecurity.Sandbox.Host;
using AgentSecurity.Sandbox.JavaScript;
using AgentSecurity.Sandbox.Processes;
using AgentSecurity.Sandbox.Tests.Infrastructure;

namespace AgentSecurity.Sandbox.Tests.JavaScript;

/// <summary>
/// JavaScript runs in worker processes, so whatever goes wrong in the engine costs one worker: the execution fails with a
/// code, the silo (this test process) carries on, the pool replaces the worker, and the next execution runs. A crash and
/// a hang are stood for by signals sent to the worker's processes while its script runs (SIGKILL, SIGSTOP), since the
/// engine's own guards leave no script that crashes or hangs it; the heap blow-up is real.
/// </summary>
[Collection(nameof(ProcessAllocationCollection))]
public sealed class JsWorkerPoolTests : IAsyncLifetime
{
    /// <summary>Makes a host call (the test's marker that the script runs in a worker), then loops until stopped.</summary>
    private const string MarkThenLoop = "agentsec.call('memory.get', 'started'); for (;;) {}";

    private readonly JsWorkerPool _pool = JsWorkers.New(new JsWorkerPoolOptions { WarmWorkers = 1, StartTimeout = TimeSpan.FromSeconds(20) });

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await _pool.DisposeAsync();

    [Fact]
    public async Task RunAsync_WorkerCrashesMidExecution_FailsThatExecutionAndTheNextRunsOnAFreshWorker()
    {
        var (running, user, _) = await StartMarkedAsync(_pool, Jobs.Limits with { WallTime = TimeSpan.FromSeconds(30), CpuTime = TimeSpan.FromSeconds(30) });

        await UserProcesses.SignalAsync(user, "KILL");
        var result = await running;

        Assert.Equal(ReasonCodes.ExecutionFailed, result.Error);
        Assert.Contains("ended without a result", result.Message, StringComparison.Ordinal);
        await AssertNextRunsAsync(_pool, user);
    }

    /// <summary>
    /// A job is told it started once, when a worker has taken it (it is among the running workers then), not when it is
    /// handed to the pool: the caller's wall clock counts from then (the kernel's deadline, AgentExecutions). Here the
    /// only warm worker is busy, so the job waits for the replacement the pool starts.
    /// </summary>
    [Fact]
    public async Task RunAsync_OnlyWorkerBusy_TellsStartedOnceWhenAWorkerHasTakenTheJob()
    {
        Assert.True(_pool.StartsLater);

        // Held until this test stops it, however long the replacement's start takes (a loaded machine took over 3 s).
        using var stopHolder = new CancellationTokenSource();
        var held = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var holderHost = FakeHostApi.AllowingEverything();
        holderHost.OnCall = _ => held.TrySetResult();
        var holding = _pool.RunAsync(Jobs.For(SandboxRuntimes.JavaScript, MarkThenLoop, limits: Jobs.Limits with { WallTime = TimeSpan.FromSeconds(120), CpuTime = TimeSpan.FromSeconds(120) }), holderHost, stopHolder.Token);
        await held.Task.WaitAsync(TimeSpan.FromSeconds(60));
        var starts = 0;
        var runningAtStart = 0;
        var job = Jobs.For(SandboxRuntimes.JavaScript, "agentsec.output('ran')") with
        {
            Started = () =>
            {
                runningAtStart = _pool.RunningUsers.Count;
                Interlocked.Increment(ref starts);
            },
        };

        var result = await _pool.RunAsync(job, FakeHostApi.AllowingEverything(), CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(60));

        Assert.True(result.Ok, result.Message);
        Assert.Equal("ran", result.Output);
        Assert.Equal(1, starts);
        Assert.Equal(2, runningAtStart); // the holder's worker and this job's
        await stopHolder.CancelAsync();
        Assert.Equal(SandboxResult.Cancelled, (await holding.WaitAsync(TimeSpan.FromSeconds(60))).Error);
    }

    [Fact]
    public async Task RunAsync_WorkerHangs_IsKilledAtItsWallTimeAndTheNextRuns()
    {
        var wall = TimeSpan.FromSeconds(2);
        var watch = Stopwatch.StartNew();
        var (running, user, _) = await StartMarkedAsync(_pool, Jobs.Limits with { WallTime = wall, CpuTime = TimeSpan.FromSeconds(30) });

        await UserProcesses.SignalAsync(user, "STOP");
        var result = await running;

        Assert.Equal(ReasonCodes.Timeout, result.Error);
        Assert.Contains("its worker was killed", result.Message, StringComparison.Ordinal);
        Assert.InRange(watch.Elapsed, wall, wall + TimeSpan.FromSeconds(10));
        await AssertNextRunsAsync(_pool, user);
    }

    /// <summary>
    /// A silo whose workspace root is private (as <c>mktemp -d</c> makes it) and holds no workspace yet: its workers, each
    /// as a user of its own, must still reach their scratch folder inside it (a full run once failed so, when the first
    /// JavaScript job of a fresh silo came before its first workspace).
    /// </summary>
    [Fact]
    public async Task RunAsync_PrivateWorkspaceRootWithoutWorkspaces_WorkersStartAndRun()
    {
        var root = Directory.CreateTempSubdirectory("agentsec-private-root-");
        try
        {
            Assert.Equal(UnixFileMode.None, root.UnixFileMode & (UnixFileMode.GroupExecute | UnixFileMode.OtherExecute));
            await using var pool = JsWorkers.New(new JsWorkerPoolOptions { WarmWorkers = 1, StartTimeout = TimeSpan.FromSeconds(20) }, root.FullName);

            var result = await pool.RunAsync(Jobs.For(SandboxRuntimes.JavaScript, "agentsec.output(agentsec.input().toUpperCase())", "reached"), FakeHostApi.AllowingEverything(), CancellationToken.None);

            Assert.True(result.Ok, result.Message);
            Assert.Equal("REACHED", result.Output);
        }
        finally
        {
            root.Delete(recursive: true);
        }
    }

    /// <summary>
    /// A script whose own limit does not stop it (1 GiB) fills the worker's 64 MiB heap: the execution ends with
    /// <c>memory_limit</c>, and this process (the silo) allocated a fraction of what the script did.
    /// </summary>
    [Fact]
    public async Task RunAsync_HeapBlowUp_CostsTheWorkerNotTheSilo()
    {
        const long Heap = 64L * 1024 * 1024;
        await using var pool = JsWorkers.New(new JsWorkerPoolOptions { WarmWorkers = 1, HeapBytes = Heap });
        await pool.WaitWarmAsync(new CancellationTokenSource(TimeSpan.FromSeconds(60)).Token);
        var allocatedBefore = GC.GetTotalAllocatedBytes(precise: true);

        var result = await pool.RunAsync(
            Jobs.For(SandboxRuntimes.JavaScript, "const kept = []; for (let i = 0; ; i++) kept.push('x'.repeat(1 << 20) + i);", limits: Jobs.Limits with { MemoryBytes = 1L << 30, CpuTime = TimeSpan.FromSeconds(30), WallTime = TimeSpan.FromSeconds(30) }),
            FakeHostApi.AllowingEverything(),
            CancellationToken.None);

        var allocatedBySilo = GC.GetTotalAllocatedBytes(precise: true) - allocatedBefore;
        Assert.Equal(ReasonCodes.MemoryLimit, result.Error);
        Assert.True(allocatedBySilo < Heap / 4, $"the silo allocated {allocatedBySilo} bytes while the script filled its worker's heap");
        await AssertNextRunsAsync(pool, null);
    }

    [Fact]
    public async Task RunAsync_TwoExecutions_RunInTwoWorkersAndTheFirstLeavesNoProcessBehind()
    {
        var first = await StartMarkedAsync(_pool, Jobs.Limits with { WallTime = TimeSpan.FromMilliseconds(300) });
        Assert.Equal(ReasonCodes.Timeout, (await first.Running).Error);

        var second = await StartMarkedAsync(_pool, Jobs.Limits with { WallTime = TimeSpan.FromMilliseconds(300) });
        await second.Running;

        Assert.NotEqual(first.User, second.User);
        Assert.Equal(0, await UserProcesses.CountAsync(first.User));
    }

    /// <summary>
    /// The worker ran its warm-up jobs (a global <c>o</c>, a host call for <c>k</c>, outputs) through the same function
    /// before this job, and maybe keep-warm jobs: none of it reaches the job's engine, its output or the silo's host. The
    /// job has the default memory limit, so it runs on the engine the worker built before it said <c>ready</c>.
    /// </summary>
    [Fact]
    public async Task RunAsync_AfterTheWorkersWarmUp_TheJobSeesOnlyItsOwnInputOutputAndCalls()
    {
        var host = FakeHostApi.AllowingEverything();

        var result = await _pool.RunAsync(
            Jobs.For(SandboxRuntimes.JavaScript, "agentsec.call('memory.get', 'mine'); agentsec.output(agentsec.input() + '|' + typeof o);", input: "hello", limits: Jobs.Limits with { MemoryBytes = new SandboxLimits().MemoryBytes }),
            host,
            CancellationToken.None);

        Assert.True(result.Ok, $"{result.Error}: {result.Message}");
        Assert.Equal("hello|undefined", result.Output);
        var call = Assert.Single(host.Calls);
        Assert.Equal(new HostCall("memory.get", "mine"), call);
    }

    [Fact]
    public async Task RunAsync_WithoutBubblewrap_IsUnavailable()
    {
        await using var pool = new JsWorkerPool(new ProcessRuntimeOptions { ScratchRoot = Path.Combine(Jobs.Workspaces.Root, ".exec"), Bubblewrap = "/nonexistent/bwrap" }, new JsWorkerPoolOptions());

        var result = await pool.RunAsync(Jobs.For(SandboxRuntimes.JavaScript, "agentsec.output('in process?')"), FakeHostApi.AllowingEverything(), CancellationToken.None);

        Assert.Equal(ReasonCodes.Unavailable, result.Error);
        Assert.Empty(result.Output);
    }

    [Fact]
    public void Constructor_InvalidOptions_Throws()
    {
        var exception = Assert.Throws<ArgumentException>(() => new JsWorkerPool(new ProcessRuntimeOptions { ScratchRoot = "/tmp" }, new JsWorkerPoolOptions { WarmWorkers = 0, HeapBytes = 1, KeepWarmEvery = TimeSpan.FromMilliseconds(5) }));

        Assert.Contains("WarmWorkers", exception.Message, StringComparison.Ordinal);
        Assert.Contains("KeepWarmEvery", exception.Message, StringComparison.Ordinal);
        Assert.Contains("HeapBytes", exception.Message, StringComparison.Ordinal);
    }

    /// <summary>Starts <see cref="MarkThenLoop"/> and returns once its host call arrived, with the user of the worker that runs it.</summary>
    private static async Task<(Task<SandboxResult> Running, uint User, FakeHostApi Host)> StartMarkedAsync(JsWorkerPool pool, SandboxLimits limits)
    {
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var host = FakeHostApi.AllowingEverything();
        host.OnCall = _ => started.TrySetResult();
        var running = pool.RunAsync(Jobs.For(SandboxRuntimes.JavaScript, MarkThenLoop, limits: limits), host, CancellationToken.None);
        await started.Task.WaitAsync(TimeSpan.FromSeconds(60));
        return (running, Assert.Single(pool.RunningUsers), host);
    }

    /// <summary>The pool is warm again, and the next script runs (in another worker than <paramref name="broken"/>'s).</summary>
    private static async Task AssertNextRunsAsync(JsWorkerPool pool, uint? broken)
    {
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await pool.WaitWarmAsync(deadline.Token);
        var host = FakeHostApi.AllowingEverything();
        uint? user = null;
        host.OnCall = _ => user = pool.RunningUsers.Single();

        var next = await pool.RunAsync(Jobs.For(SandboxRuntimes.JavaScript, "agentsec.call('memory.get', 'k'); agentsec.output(agentsec.input().toUpperCase())", "still here"), host, CancellationToken.None);

        Assert.True(next.Ok, next.Message);
        Assert.Equal("STILL HERE", next.Output);
        Assert.NotEqual(broken, user);
        if (broken is { } gone)
        {
            Assert.Equal(0, await UserProcesses.CountAsync(gone));
        }
    }
}

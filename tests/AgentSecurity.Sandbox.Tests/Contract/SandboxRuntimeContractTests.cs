using AgentSecurity.Grants;
using AgentSecurity.Sandbox.Host;
using AgentSecurity.Sandbox.Tests.Infrastructure;

namespace AgentSecurity.Sandbox.Tests.Contract;

/// <summary>
/// What every sandbox runtime promises (<see cref="ISandboxRuntime"/>, <see cref="SandboxLimits"/>,
/// <see cref="SandboxResult"/>, docs/sandboxes.md), stated once and run for each runtime of the
/// <see cref="RuntimeRegistry"/>. What only one runtime does is tested in that runtime's own class.
/// </summary>
public sealed class SandboxRuntimeContractTests(SandboxRuntimeContractTests.RuntimeInstances runtimes) : IClassFixture<SandboxRuntimeContractTests.RuntimeInstances>
{
    private const int OutputLimit = 10_000;

    /// <summary>Allocations are measured against this; a native interpreter needs some of it (address space) to start.</summary>
    private const long MemoryLimit = 64L * 1024 * 1024;

    /// <summary>One instance of each runtime, made when a row first needs it and disposed after the last (rows run one at a time).</summary>
    public sealed class RuntimeInstances : IDisposable
    {
        private readonly Dictionary<string, ISandboxRuntime> _runtimes = new(StringComparer.Ordinal);

        internal ISandboxRuntime Get(RuntimeAdapter adapter) =>
            _runtimes.TryGetValue(adapter.Name, out var runtime) ? runtime : _runtimes[adapter.Name] = adapter.Create();

        public void Dispose()
        {
            foreach (var runtime in _runtimes.Values)
            {
                (runtime as IDisposable)?.Dispose();
            }
        }
    }

    private async Task<SandboxResult> RunAsync(RuntimeAdapter adapter, string code, string input = "", SandboxLimits? limits = null, IHostApi? host = null, CancellationToken cancellation = default)
    {
        var result = await runtimes.Get(adapter).RunAsync(Jobs.For(adapter.Name, code, input, limits), host ?? FakeHostApi.AllowingEverything(), cancellation);
        AssertUsageReported(result);
        return result;
    }

    /// <summary>Whatever ended the last execution, the runtime runs the next one.</summary>
    private async Task AssertHealthyAsync(RuntimeAdapter adapter)
    {
        var next = await RunAsync(adapter, adapter.Echo, "still here");
        Assert.True(next.Ok, next.Message);
        Assert.Equal("still here", next.Output);
    }

    /// <summary>Every ending reports its usage: nothing negative, and only calls that reached the kernel denied.</summary>
    private static void AssertUsageReported(SandboxResult result)
    {
        var usage = result.Usage;
        Assert.True(usage.CpuMillis >= 0 && usage.WallMillis >= 0 && usage.MemoryBytes >= 0, $"{usage}");
        Assert.InRange(usage.Denied, 0, usage.HostCalls);
    }

    /// <summary>A runtime without an adapter would be held to none of these promises.</summary>
    [Fact]
    public void Runtimes_EverySandboxRuntime_IsInTheContract()
    {
        Assert.Equal(SandboxRuntimes.All.Order(StringComparer.Ordinal), RuntimeRegistry.Names.Order(StringComparer.Ordinal));
    }

    [Theory]
    [MemberData(nameof(RuntimeRegistry.Runtimes), MemberType = typeof(RuntimeRegistry))]
    public async Task RunAsync_Echo_ReturnsTheInputAsOutput(string runtime)
    {
        var adapter = RuntimeRegistry.Get(runtime);

        var result = await RunAsync(adapter, adapter.Echo, "héllo, agent ✓\nsecond line");

        Assert.True(result.Ok, result.Message);
        Assert.Equal("héllo, agent ✓\nsecond line", result.Output);
        Assert.Equal(0, result.Usage.HostCalls);
    }

    [Theory]
    [MemberData(nameof(RuntimeRegistry.Runtimes), MemberType = typeof(RuntimeRegistry))]
    public async Task RunAsync_OutputUpToTheLimit_IsKeptWhole(string runtime)
    {
        var adapter = RuntimeRegistry.Get(runtime);

        var result = await RunAsync(adapter, adapter.Write(OutputLimit), limits: Jobs.Limits with { OutputBytes = OutputLimit });

        Assert.True(result.Ok, result.Message);
        Assert.Equal(new string('x', OutputLimit), result.Output);
    }

    [Theory]
    [MemberData(nameof(RuntimeRegistry.Runtimes), MemberType = typeof(RuntimeRegistry))]
    public async Task RunAsync_OutputOneBytePastTheLimit_EndsOutputLimitKeepingTheLimit(string runtime)
    {
        var adapter = RuntimeRegistry.Get(runtime);

        var result = await RunAsync(adapter, adapter.Write(OutputLimit + 1), limits: Jobs.Limits with { OutputBytes = OutputLimit });

        Assert.Equal(ReasonCodes.OutputLimit, result.Error);
        Assert.Equal(new string('x', OutputLimit), result.Output);
        await AssertHealthyAsync(adapter);
    }

    /// <summary>Output without end is stopped at the limit, not left to run into the CPU or wall-clock limit.</summary>
    [Theory]
    [MemberData(nameof(RuntimeRegistry.Runtimes), MemberType = typeof(RuntimeRegistry))]
    public async Task RunAsync_OutputFlood_EndsOutputLimitKeepingTheLimit(string runtime)
    {
        var adapter = RuntimeRegistry.Get(runtime);

        var result = await RunAsync(adapter, adapter.Write(int.MaxValue), limits: Jobs.Limits with { OutputBytes = OutputLimit });

        Assert.Equal(ReasonCodes.OutputLimit, result.Error);
        Assert.Equal(new string('x', OutputLimit), result.Output);
        await AssertHealthyAsync(adapter);
    }

    [Theory]
    [MemberData(nameof(RuntimeRegistry.Runtimes), MemberType = typeof(RuntimeRegistry))]
    public async Task RunAsync_HostCalls_ReachTheHostAsTheCodeMadeThemAndTheRepliesTheCode(string runtime)
    {
        var adapter = RuntimeRegistry.Get(runtime);
        var host = FakeHostApi.AllowingEverything();
        // Non-ASCII and JSON's special characters, so that no layer's encoding is taken for granted; the read has no second argument (null).
        var write = new HostCall(HostCall.FsWrite, "/workspace/día.txt", "written by the agent ✓ \"quoted\" \\ {}");
        var read = new HostCall(HostCall.FsRead, "/workspace/día.txt");

        var result = await RunAsync(adapter, adapter.Call(write, read), host: host);

        Assert.True(result.Ok, result.Message);
        Assert.Equal(new[] { write, read }, host.Calls);
        Assert.Equal($"ok:\nok:{write.Second}\n", result.Output);
        Assert.Equal(2, result.Usage.HostCalls);
        Assert.Equal(0, result.Usage.Denied);
    }

    [Theory]
    [MemberData(nameof(RuntimeRegistry.Runtimes), MemberType = typeof(RuntimeRegistry))]
    public async Task RunAsync_DeniedHostCall_AnswersTheCodeWithTheReasonAndIsCounted(string runtime)
    {
        var adapter = RuntimeRegistry.Get(runtime);
        var host = new FakeHostApi(); // nothing allowed
        var read = new HostCall(HostCall.FsRead, "/workspace/secret.txt");

        var result = await RunAsync(adapter, adapter.Call(read), host: host);

        Assert.True(result.Ok, result.Message); // a denial is an answer to the code, not the end of it
        Assert.Equal("denied:capability_not_granted\n", result.Output);
        Assert.Equal(read, Assert.Single(host.Calls));
        Assert.Equal(1, result.Usage.HostCalls);
        Assert.Equal(1, result.Usage.Denied);
    }

    [Theory]
    [MemberData(nameof(RuntimeRegistry.Runtimes), MemberType = typeof(RuntimeRegistry))]
    public async Task RunAsync_FailedHostCall_AnswersTheCodeWithItsErrorNotAsADenial(string runtime)
    {
        var adapter = RuntimeRegistry.Get(runtime);

        var result = await RunAsync(adapter, adapter.Call(new HostCall(HostCall.FsRead, "/workspace/absent.txt")));

        Assert.True(result.Ok, result.Message);
        Assert.Equal("failed:not_found\n", result.Output);
        Assert.Equal(1, result.Usage.HostCalls);
        Assert.Equal(0, result.Usage.Denied);
    }

    [Theory]
    [MemberData(nameof(RuntimeRegistry.Runtimes), MemberType = typeof(RuntimeRegistry))]
    public async Task RunAsync_HostCallsPastTheBudget_FailQuotaExceededWithoutReachingTheHost(string runtime)
    {
        var adapter = RuntimeRegistry.Get(runtime);
        var host = FakeHostApi.AllowingEverything();
        host.Memory["first"] = "1";
        var first = new HostCall(HostCall.MemoryGet, "first");

        var result = await RunAsync(adapter, adapter.Call(first, new HostCall(HostCall.MemoryGet, "second")), limits: Jobs.Limits with { HostCalls = 1 }, host: host);

        Assert.True(result.Ok, result.Message);
        Assert.Equal("ok:1\nfailed:quota_exceeded\n", result.Output);
        Assert.Equal(first, Assert.Single(host.Calls));
        Assert.Equal(1, result.Usage.HostCalls);
        Assert.Equal(0, result.Usage.Denied);
    }

    [Theory]
    [MemberData(nameof(RuntimeRegistry.Runtimes), MemberType = typeof(RuntimeRegistry))]
    public async Task RunAsync_InfiniteLoop_EndsFuelExhausted(string runtime)
    {
        var adapter = RuntimeRegistry.Get(runtime);

        // The wall-clock limit is far away, so that only the CPU budget ends it in time.
        var result = await RunAsync(adapter, adapter.Loop(), limits: Jobs.Limits with { CpuTime = TimeSpan.FromMilliseconds(200), WallTime = TimeSpan.FromMinutes(1) });

        Assert.Equal(ReasonCodes.FuelExhausted, result.Error);
        Assert.True(result.Usage.CpuMillis > 0, "a loop that used up its CPU budget reports none");
        await AssertHealthyAsync(adapter);
    }

    [Theory]
    [MemberData(nameof(RuntimeRegistry.Runtimes), MemberType = typeof(RuntimeRegistry))]
    public async Task RunAsync_InfiniteLoopWithinItsCpuBudget_EndsTimeoutAtItsWallTime(string runtime)
    {
        var adapter = RuntimeRegistry.Get(runtime);
        var limits = Jobs.Limits with { CpuTime = TimeSpan.FromMinutes(10), WallTime = TimeSpan.FromMilliseconds(300) };

        var result = await RunAsync(adapter, adapter.Loop(), limits: limits);

        Assert.Equal(ReasonCodes.Timeout, result.Error);
        Assert.True(result.Usage.WallMillis >= limits.WallTime.TotalMilliseconds, $"stopped for its wall time after {result.Usage.WallMillis} ms");
        await AssertHealthyAsync(adapter);
    }

    [Theory]
    [MemberData(nameof(RuntimeRegistry.Runtimes), MemberType = typeof(RuntimeRegistry))]
    public async Task RunAsync_CancelledWhileRunning_EndsCancelled(string runtime)
    {
        var adapter = RuntimeRegistry.Get(runtime);
        var running = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var host = FakeHostApi.AllowingEverything();
        host.OnCall = _ => running.TrySetResult();
        using var stop = new CancellationTokenSource();

        // Its limits are far away, so that only the cancellation ends it in time; its host call says that it has started, where a sleep would guess.
        var run = RunAsync(adapter, adapter.Loop(new HostCall(HostCall.MemoryGet, "running")), limits: Jobs.Limits with { CpuTime = TimeSpan.FromMinutes(10), WallTime = TimeSpan.FromMinutes(1) }, host: host, cancellation: stop.Token);
        Assert.Same(running.Task, await Task.WhenAny(running.Task, run));
        await stop.CancelAsync();
        var result = await run;

        Assert.Equal(SandboxResult.Cancelled, result.Error);
        await AssertHealthyAsync(adapter);
    }

    [Theory]
    [MemberData(nameof(RuntimeRegistry.Runtimes), MemberType = typeof(RuntimeRegistry))]
    public async Task RunAsync_AllocationWithinTheMemoryLimit_Succeeds(string runtime)
    {
        var adapter = RuntimeRegistry.Get(runtime);

        var result = await RunAsync(adapter, adapter.Allocate(MemoryLimit / 8), limits: Jobs.Limits with { MemoryBytes = MemoryLimit });

        Assert.True(result.Ok, result.Message);
        Assert.Equal("allocated", result.Output);
    }

    [Theory]
    [MemberData(nameof(RuntimeRegistry.Runtimes), MemberType = typeof(RuntimeRegistry))]
    public async Task RunAsync_AllocationPastTheMemoryLimit_EndsMemoryLimit(string runtime)
    {
        var adapter = RuntimeRegistry.Get(runtime);

        var result = await RunAsync(adapter, adapter.Allocate(MemoryLimit * 2), limits: Jobs.Limits with { MemoryBytes = MemoryLimit });

        Assert.Equal(ReasonCodes.MemoryLimit, result.Error);
        Assert.DoesNotContain("allocated", result.Output, StringComparison.Ordinal); // a native program's complaint is output too
        await AssertHealthyAsync(adapter);
    }

    [Theory]
    [MemberData(nameof(RuntimeRegistry.Runtimes), MemberType = typeof(RuntimeRegistry))]
    public async Task RunAsync_FailureOfTheCodesOwn_EndsExecutionFailedKeepingItsOutput(string runtime)
    {
        var adapter = RuntimeRegistry.Get(runtime);

        var result = await RunAsync(adapter, adapter.Fail);

        Assert.Equal(ReasonCodes.ExecutionFailed, result.Error);
        Assert.Equal("before", result.Output);
        Assert.Contains(adapter.FailureNamed, result.Message, StringComparison.Ordinal);
        await AssertHealthyAsync(adapter);
    }

    [Theory]
    [MemberData(nameof(RuntimeRegistry.Runtimes), MemberType = typeof(RuntimeRegistry))]
    public async Task RunAsync_NotAProgram_EndsBadModule(string runtime)
    {
        var adapter = RuntimeRegistry.Get(runtime);

        var result = await RunAsync(adapter, adapter.NotAProgram);

        Assert.Equal(ReasonCodes.BadModule, result.Error);
        Assert.Equal(string.Empty, result.Output);
    }
}

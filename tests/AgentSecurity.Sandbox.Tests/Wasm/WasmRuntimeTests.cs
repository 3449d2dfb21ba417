using System.Diagnostics;
using AgentSecurity.Grants;
using AgentSecurity.Sandbox.Host;
using AgentSecurity.Sandbox.Tests.Infrastructure;
using AgentSecurity.Sandbox.Wasm;

namespace AgentSecurity.Sandbox.Tests.Wasm;

public sealed class WasmRuntimeTests : IClassFixture<WasmRuntimeTests.RuntimeFixture>
{
    private readonly WasmRuntime _runtime;

    public WasmRuntimeTests(RuntimeFixture fixture) => _runtime = fixture.Runtime;

    public sealed class RuntimeFixture : IDisposable
    {
        public WasmRuntime Runtime { get; } = new();

        public void Dispose() => Runtime.Dispose();
    }

    private Task<SandboxResult> RunAsync(string module, string input = "", SandboxLimits? limits = null, IHostApi? host = null, CancellationToken cancellation = default) =>
        _runtime.RunAsync(Jobs.For(SandboxRuntimes.Wasm, module, input, limits), host ?? FakeHostApi.AllowingEverything(), cancellation);

    /// <summary>The runtime is still healthy after whatever the test did: a trivial module runs.</summary>
    private async Task AssertHealthyAsync()
    {
        var next = await RunAsync(WatModules.Echo, "still here");
        Assert.True(next.Ok, next.Message);
        Assert.Equal("still here", next.Output);
    }

    [Fact]
    public async Task RunAsync_Echo_ReturnsInputAsOutput()
    {
        var result = await RunAsync(WatModules.Echo, "héllo, agent");

        Assert.True(result.Ok, result.Message);
        Assert.Null(result.Error);
        Assert.Equal("héllo, agent", result.Output);
        Assert.Equal(65536, result.Usage.MemoryBytes);
    }

    [Fact]
    public async Task RunAsync_BinaryModule_Runs()
    {
        var binary = Wasmtime.Module.ConvertText(WatModules.Echo);
        var result = await _runtime.RunAsync(Jobs.For(SandboxRuntimes.Wasm, binary, "bytes"), FakeHostApi.AllowingEverything(), default);

        Assert.True(result.Ok, result.Message);
        Assert.Equal("bytes", result.Output);
    }

    [Fact]
    public async Task RunAsync_AllowedHostCall_ReturnsReplyAndCountsIt()
    {
        var host = new FakeHostApi();
        host.Allowed.Add(HostCall.MemoryGet);
        host.Memory["notes/today"] = "buy milk";

        var result = await RunAsync(WatModules.HostCall(HostCall.MemoryGet, "notes/today"), host: host);

        Assert.True(result.Ok, result.Message);
        Assert.Equal("0 buy milk", result.Output);
        Assert.Equal(1, result.Usage.HostCalls);
        Assert.Equal(0, result.Usage.Denied);
        Assert.Equal(new HostCall(HostCall.MemoryGet, "notes/today", null), Assert.Single(host.Calls));
    }

    [Fact]
    public async Task RunAsync_DeniedHostCall_ReturnsStatusAndReasonToTheCode()
    {
        var host = new FakeHostApi(); // nothing allowed

        var result = await RunAsync(WatModules.HostCall(HostCall.FsRead, "/workspace/secret.txt"), host: host);

        Assert.True(result.Ok, result.Message); // a denial is an answer to the code, not the end of it
        Assert.StartsWith("1 capability_not_granted: ", result.Output, StringComparison.Ordinal);
        Assert.Equal(1, result.Usage.HostCalls);
        Assert.Equal(1, result.Usage.Denied);
    }

    [Fact]
    public async Task RunAsync_HostCallWithSecondArgument_PassesIt()
    {
        var host = FakeHostApi.AllowingEverything();

        var result = await RunAsync(WatModules.HostCall(HostCall.FsWrite, "/workspace/out.txt", "written by wasm"), host: host);

        Assert.True(result.Ok, result.Message);
        Assert.Equal("written by wasm", host.Files["/workspace/out.txt"]);
    }

    [Fact]
    public async Task RunAsync_MoreHostCallsThanTheBudget_RefusesTheRestWithoutAskingTheKernel()
    {
        var host = FakeHostApi.AllowingEverything();
        var call = WatModules.HostCall(HostCall.MemoryGet, "k");

        var result = await RunAsync(call, limits: Jobs.Limits with { HostCalls = 0 }, host: host);

        Assert.True(result.Ok, result.Message);
        Assert.StartsWith("2 quota_exceeded", result.Output, StringComparison.Ordinal);
        Assert.Empty(host.Calls);
    }

    [Fact]
    public async Task RunAsync_InfiniteLoop_EndsWithFuelExhausted()
    {
        var watch = Stopwatch.StartNew();
        var result = await RunAsync(WatModules.InfiniteLoop, limits: Jobs.Limits with { CpuTime = TimeSpan.FromMilliseconds(100) });

        Assert.Equal(ReasonCodes.FuelExhausted, result.Error);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(5), $"took {watch.Elapsed}");
        await AssertHealthyAsync();
    }

    [Fact]
    public async Task RunAsync_InfiniteLoopWithinFuelButPastWallTime_EndsWithTimeout()
    {
        var result = await RunAsync(WatModules.InfiniteLoop, limits: Jobs.Limits with { CpuTime = TimeSpan.FromMinutes(10), WallTime = TimeSpan.FromMilliseconds(200) });

        Assert.Equal(ReasonCodes.Timeout, result.Error);
        Assert.InRange(result.Usage.WallMillis, 200, 5_000);
        await AssertHealthyAsync();
    }

    [Fact]
    public async Task RunAsync_Cancelled_StopsAnInfiniteLoopPromptly()
    {
        using var stop = new CancellationTokenSource();
        var run = RunAsync(WatModules.InfiniteLoop, limits: Jobs.Limits with { CpuTime = TimeSpan.FromMinutes(10), WallTime = TimeSpan.FromMinutes(10) }, cancellation: stop.Token);
        await Task.Delay(200);
        Assert.False(run.IsCompleted);

        var watch = Stopwatch.StartNew();
        await stop.CancelAsync();
        var result = await run.WaitAsync(TimeSpan.FromSeconds(5));

        Assert.Equal(SandboxResult.Cancelled, result.Error);
        // Typically a few milliseconds; the bound leaves room for scheduling while the other test classes run CPU-bound
        // code on both cores in parallel (a clean-clone CI run once took 1.015 s here).
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(2), $"stopping took {watch.Elapsed}");
        await AssertHealthyAsync();
    }

    [Fact]
    public async Task RunAsync_MemoryBomb_EndsWithMemoryLimit()
    {
        var result = await RunAsync(WatModules.MemoryBomb, limits: Jobs.Limits with { MemoryBytes = 4L * 1024 * 1024 });

        Assert.Equal(ReasonCodes.MemoryLimit, result.Error);
        Assert.InRange(result.Usage.MemoryBytes, 4L * 1024 * 1024 - 65536, 4L * 1024 * 1024);
        await AssertHealthyAsync();
    }

    [Fact]
    public async Task RunAsync_InitialMemoryBeyondTheLimit_EndsWithMemoryLimit()
    {
        var result = await RunAsync(WatModules.HugeInitialMemory);

        Assert.Equal(ReasonCodes.MemoryLimit, result.Error);
        await AssertHealthyAsync();
    }

    [Fact]
    public async Task RunAsync_DeepRecursion_EndsWithMemoryLimitAndTheSiloSurvives()
    {
        var result = await RunAsync(WatModules.DeepRecursion);

        Assert.Equal(ReasonCodes.MemoryLimit, result.Error);
        Assert.Contains("stack overflow", result.Message, StringComparison.Ordinal);
        await AssertHealthyAsync();
    }

    [Fact]
    public async Task RunAsync_OutputFlood_EndsWithOutputLimitKeepingTheLimit()
    {
        var result = await RunAsync(WatModules.OutputFlood, limits: Jobs.Limits with { OutputBytes = 10_000 });

        Assert.Equal(ReasonCodes.OutputLimit, result.Error);
        Assert.Equal(10_000, result.Output.Length);
        await AssertHealthyAsync();
    }

    [Fact]
    public async Task RunAsync_PointerOutsideItsMemory_EndsWithSandboxViolation()
    {
        var result = await RunAsync(WatModules.PointerOutOfBounds);

        Assert.Equal(ReasonCodes.SandboxViolation, result.Error);
        await AssertHealthyAsync();
    }

    [Fact]
    public async Task RunAsync_HostCallArgumentLargerThanAllowed_FailsWithoutDecodingIt()
    {
        var module = WatModules.Agent("""
            (local $status i32)
            (drop (memory.grow (i32.const 40)))
            (local.set $status (call $call (i32.const 0) (i32.const 9) (i32.const 64) (i32.const 2097152) (i32.const 0) (i32.const -1)))
            (i32.store8 (i32.const 16) (i32.add (i32.const 48) (local.get $status)))
            (call $output (i32.const 16) (i32.const 1))
            """, data: """(data (i32.const 0) "fs.write")""");
        var host = FakeHostApi.AllowingEverything();

        var result = await RunAsync(module, host: host);

        Assert.True(result.Ok, result.Message);
        Assert.Equal("2", result.Output);
        Assert.Empty(host.Calls);
    }

    [Fact]
    public async Task RunAsync_OutputCallLongerThanTheRoomLeft_EndsWithOutputLimitReadingOnlyTheRoom()
    {
        var result = await RunAsync(WatModules.Agent("(call $output (i32.const 0) (i32.const 60000))"), limits: Jobs.Limits with { OutputBytes = 100 });

        Assert.Equal(ReasonCodes.OutputLimit, result.Error);
        Assert.Equal(100, result.Output.Length);
    }

    [Fact]
    public async Task RunAsync_StartFunctionThatLoops_IsStoppedLikeAnyLoop()
    {
        const string Module = """(module (func $start (loop $l (br $l))) (start $start) (func (export "run")))""";

        var fuel = await RunAsync(Module, limits: Jobs.Limits with { CpuTime = TimeSpan.FromMilliseconds(50) });
        var wall = await RunAsync(Module, limits: Jobs.Limits with { CpuTime = TimeSpan.FromMinutes(10), WallTime = TimeSpan.FromMilliseconds(200) });

        Assert.Equal(ReasonCodes.FuelExhausted, fuel.Error);
        Assert.Equal(ReasonCodes.Timeout, wall.Error);
    }

    [Fact]
    public async Task RunAsync_ModuleThatCompilesLongerThanItsWallTime_EndsWithTimeout()
    {
        const int Depth = 10_000;
        var nested = string.Concat(Enumerable.Repeat("(if (i32.const 1) (then ", Depth)) + "nop" + new string(')', Depth * 2);

        var result = await RunAsync($"(module (func (export \"run\") {nested}))", limits: Jobs.Limits with { WallTime = TimeSpan.FromMilliseconds(100) });

        Assert.Equal(ReasonCodes.Timeout, result.Error);
        await AssertHealthyAsync();
    }

    [Fact]
    public async Task RunAsync_Trap_EndsWithExecutionFailed()
    {
        var result = await RunAsync(WatModules.Traps);

        Assert.Equal(ReasonCodes.ExecutionFailed, result.Error);
        Assert.Contains("unreachable", result.Message, StringComparison.OrdinalIgnoreCase);
    }

    [Theory]
    [InlineData(nameof(WatModules.ImportsWasi), "wasi_snapshot_preview1.fd_write")]
    [InlineData(nameof(WatModules.ImportsUnknownHostFunction), "agentsec.exec")]
    [InlineData(nameof(WatModules.ImportsHostFunctionWithWrongType), "wrong type")]
    [InlineData(nameof(WatModules.ImportsMemory), "agentsec.memory")]
    [InlineData(nameof(WatModules.NoRunExport), "\"run\"")]
    [InlineData(nameof(WatModules.RunWithParameters), "\"run\"")]
    public async Task RunAsync_ModuleOutsideTheHostAbi_IsBadModule(string module, string named)
    {
        var text = (string)typeof(WatModules).GetField(module)!.GetValue(null)!;

        var result = await RunAsync(text);

        Assert.Equal(ReasonCodes.BadModule, result.Error);
        Assert.Contains(named, result.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("(module")]
    [InlineData("not wasm at all")]
    [InlineData("\0asm\u0001\0\0\0\u00ff")]
    public async Task RunAsync_NotAModule_IsBadModule(string code)
    {
        var result = await RunAsync(code);

        Assert.Equal(ReasonCodes.BadModule, result.Error);
    }

    [Fact]
    public async Task RunAsync_InvalidUtf8Text_IsBadModule()
    {
        var result = await _runtime.RunAsync(Jobs.For(SandboxRuntimes.Wasm, new byte[] { 0x28, 0xff, 0xfe }), new FakeHostApi(), default);

        Assert.Equal(ReasonCodes.BadModule, result.Error);
    }

    [Fact]
    public async Task RunAsync_ManyConcurrentExecutions_EachGetsItsOwnInstance()
    {
        var runs = Enumerable.Range(0, 16).Select(i => RunAsync(WatModules.Echo, $"run {i}")).ToList();

        var results = await Task.WhenAll(runs);

        Assert.Equal(Enumerable.Range(0, 16).Select(i => $"run {i}"), results.Select(r => r.Output));
    }
}

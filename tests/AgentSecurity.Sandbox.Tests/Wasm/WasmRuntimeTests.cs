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
    public async Task RunAsync_BinaryModule_Runs()
    {
        var binary = Wasmtime.Module.ConvertText(WatModules.Echo);
        var result = await _runtime.RunAsync(Jobs.For(SandboxRuntimes.Wasm, binary, "bytes"), FakeHostApi.AllowingEverything(), default);

        Assert.True(result.Ok, result.Message);
        Assert.Equal("bytes", result.Output);
    }

    /// <summary>A module's memory usage is its linear memory: one page to start with, up to the limit at most.</summary>
    [Fact]
    public async Task RunAsync_Usage_ReportsLinearMemory()
    {
        var small = await RunAsync(WatModules.Echo, "one page");
        var bomb = await RunAsync(WatModules.MemoryBomb, limits: Jobs.Limits with { MemoryBytes = 4L * 1024 * 1024 });

        Assert.True(small.Ok, small.Message);
        Assert.Equal(65536, small.Usage.MemoryBytes);
        Assert.Equal(ReasonCodes.MemoryLimit, bomb.Error);
        Assert.InRange(bomb.Usage.MemoryBytes, 4L * 1024 * 1024 - 65536, 4L * 1024 * 1024);
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

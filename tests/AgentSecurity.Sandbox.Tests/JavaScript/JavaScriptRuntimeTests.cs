using System.Diagnostics;
using AgentSecurity.Grants;
using AgentSecurity.Sandbox.Host;
using AgentSecurity.Sandbox.JavaScript;
using AgentSecurity.Sandbox.Tests.Infrastructure;

namespace AgentSecurity.Sandbox.Tests.JavaScript;

/// <summary>
/// The language-level boundary: what a script can reach and how Jint's limits end it. These run the engine in this
/// process, the very code a worker runs on its one thread (<c>JavaScriptRuntime.Run</c>), since each execution in the
/// pool costs a worker's start (~0.4 s of CPU) and these cases test the engine, not the process around it; the
/// contract suite (<c>SandboxRuntimeContractTests</c>) and <see cref="JsWorkerPoolTests"/> run JavaScript through the pool.
/// </summary>
public sealed class JavaScriptRuntimeTests : IDisposable
{
    private readonly JavaScriptRuntime _runtime = new();

    public void Dispose() => _runtime.Dispose();

    private Task<SandboxResult> RunAsync(string script, string input = "", SandboxLimits? limits = null, IHostApi? host = null, CancellationToken cancellation = default) =>
        _runtime.RunAsync(Jobs.For(SandboxRuntimes.JavaScript, script, input, limits), host ?? FakeHostApi.AllowingEverything(), cancellation);

    private async Task AssertHealthyAsync()
    {
        var next = await RunAsync("agentsec.output(agentsec.input().toUpperCase())", "still here");
        Assert.True(next.Ok, next.Message);
        Assert.Equal("STILL HERE", next.Output);
    }

    /// <summary>console.log joins its values with spaces, objects as JSON, after what agentsec.output wrote.</summary>
    [Fact]
    public async Task RunAsync_ConsoleLog_WritesItsValuesToTheSameOutput()
    {
        var result = await RunAsync("agentsec.output(agentsec.input()); console.log('', {n: 1})", "héllo");

        Assert.True(result.Ok, result.Message);
        Assert.Equal("héllo {\"n\":1}\n", result.Output);
    }

    [Fact]
    public async Task RunAsync_HostCalls_GoThroughTheHostApi()
    {
        var host = FakeHostApi.AllowingEverything();

        var result = await RunAsync("""
            agentsec.fs.write('/workspace/a.txt', 'one');
            agentsec.memory.put('k', 'v');
            console.log(agentsec.fs.read('/workspace/a.txt'), agentsec.memory.get('k'), agentsec.memory.get('absent'),
              agentsec.http.fetch('https://api.example.com/x'), agentsec.llm.complete('hi'), agentsec.vectordb.query('c', 'q'));
            """, host: host);

        Assert.True(result.Ok, result.Message);
        Assert.Equal("one v null fetched https://api.example.com/x completion of hi []\n", result.Output);
        Assert.Equal(8, result.Usage.HostCalls);
        Assert.Equal(0, result.Usage.Denied);
    }

    [Fact]
    public async Task RunAsync_DeniedHostCall_ThrowsAnErrorWithTheReasonCode()
    {
        var result = await RunAsync("""
            try { agentsec.fs.read('/workspace/secret'); }
            catch (e) { console.log(e.code, e.denied, e instanceof Error); }
            """, host: new FakeHostApi());

        Assert.True(result.Ok, result.Message);
        Assert.Equal("capability_not_granted true true\n", result.Output);
        Assert.Equal(1, result.Usage.Denied);
    }

    [Fact]
    public async Task RunAsync_UncaughtDenial_EndsWithExecutionFailed()
    {
        var result = await RunAsync("agentsec.fs.read('/workspace/secret')", host: new FakeHostApi());

        Assert.Equal(ReasonCodes.ExecutionFailed, result.Error);
        Assert.Contains("capability_not_granted", result.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("let s = 'x'; for (;;) s = s + s;")]
    [InlineData("const m = new Map(); for (let i = 0; ; i++) m.set(i, {i});")]
    public async Task RunAsync_MemoryBomb_EndsWithMemoryLimit(string script)
    {
        var result = await RunAsync(script, limits: Jobs.Limits with { MemoryBytes = 8L * 1024 * 1024 });

        Assert.Equal(ReasonCodes.MemoryLimit, result.Error);
        await AssertHealthyAsync();
    }

    [Theory]
    [InlineData("new Array(4294967295).fill(0)")]
    [InlineData("const a = []; a.length = 4294967295; a.fill(1);")]
    public async Task RunAsync_HugeArray_IsRefused(string script)
    {
        var result = await RunAsync(script, limits: Jobs.Limits with { MemoryBytes = 8L * 1024 * 1024 });

        Assert.False(result.Ok);
        Assert.Contains(result.Error, new[] { ReasonCodes.MemoryLimit, ReasonCodes.ExecutionFailed, ReasonCodes.FuelExhausted });
        await AssertHealthyAsync();
    }

    [Fact]
    public async Task RunAsync_DeepRecursion_EndsWithMemoryLimit()
    {
        var result = await RunAsync("function down(n) { return down(n + 1) + 1; } down(0);");

        Assert.Equal(ReasonCodes.MemoryLimit, result.Error);
        Assert.Contains("stack overflow", result.Message, StringComparison.Ordinal);
        await AssertHealthyAsync();
    }

    [Fact]
    public async Task RunAsync_DeeplyNestedSource_IsRefusedWithoutCrashingTheSilo()
    {
        var nested = new string('[', 200_000) + new string(']', 200_000);

        var result = await RunAsync($"const x = {nested};");

        Assert.Equal(ReasonCodes.BadModule, result.Error);
        await AssertHealthyAsync();
    }

    /// <summary>Built-ins that recurse in C# must end as a stack error of the script, never overflow the silo's stack.</summary>
    [Theory]
    [InlineData("let a = []; for (let i = 0; i < 300000; i++) a = [a]; String(a)")]
    [InlineData("let a = {}; for (let i = 0; i < 300000; i++) a = {a}; JSON.stringify(a)")]
    [InlineData("let a = []; for (let i = 0; i < 300000; i++) a = [a]; a.flat(Infinity)")]
    [InlineData("let f = function () { return 1; }; for (let i = 0; i < 300000; i++) f = f.bind(null); f()")]
    public async Task RunAsync_DeeplyNestedStructureThroughBuiltIns_EndsWithMemoryLimitAndTheSiloSurvives(string script)
    {
        var result = await RunAsync(script, limits: Jobs.Limits with { MemoryBytes = 1L << 30, CpuTime = TimeSpan.FromSeconds(30), WallTime = TimeSpan.FromSeconds(30) });

        Assert.Equal(ReasonCodes.MemoryLimit, result.Error);
        await AssertHealthyAsync();
    }

    [Theory]
    [InlineData("Proxy")]
    [InlineData("Atomics")]
    [InlineData("SharedArrayBuffer")]
    [InlineData("ShadowRealm")]
    [InlineData("WeakRef")]
    [InlineData("FinalizationRegistry")]
    public async Task RunAsync_BuiltInsThatReachPastTheLimits_AreNotThere(string name)
    {
        var result = await RunAsync($"agentsec.output(typeof {name})");

        Assert.True(result.Ok, result.Message);
        Assert.Equal("undefined", result.Output);
    }

    /// <summary>Whatever a script throws or replaces, the execution ends with a code and the host API keeps working.</summary>
    [Theory]
    [InlineData("import('x')", "execution_failed")]
    [InlineData("throw { get name() { throw 1; }, get message() { throw 2; } }", "execution_failed")]
    [InlineData("throw null", "execution_failed")]
    [InlineData("globalThis.String = () => ({}); JSON.stringify = () => ({}); agentsec.output(agentsec.memory.get('k'))", null)]
    [InlineData("Object.values = () => { throw 1; }; Array.prototype[Symbol.iterator] = null; console.log('still', 1)", null)]
    [InlineData("agentsec.call({ toString() { throw new Error('no'); } })", "execution_failed")]
    public async Task RunAsync_HostileValuesAndReplacedBuiltIns_EndWithACode(string script, string? expected)
    {
        var result = await RunAsync(script);

        Assert.Equal(expected, result.Error);
        await AssertHealthyAsync();
    }

    /// <summary><c>console.*</c> writes to the same limited output as <c>agentsec.output</c>, which the contract suite floods.</summary>
    [Fact]
    public async Task RunAsync_ConsoleLogFlood_EndsWithOutputLimit()
    {
        var result = await RunAsync("for (;;) console.log('flood '.repeat(100));", limits: Jobs.Limits with { OutputBytes = 10_000 });

        Assert.Equal(ReasonCodes.OutputLimit, result.Error);
        Assert.Equal(10_000, result.Output.Length);
    }

    [Fact]
    public async Task RunAsync_CatastrophicRegex_EndsWithTimeout()
    {
        var watch = Stopwatch.StartNew();

        var result = await RunAsync("/(a+)+$/.test('a'.repeat(40) + '!')");

        Assert.Equal(ReasonCodes.Timeout, result.Error);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(5), $"took {watch.Elapsed}");
        await AssertHealthyAsync();
    }

    [Fact]
    public async Task RunAsync_CatastrophicRegexCaught_StillCannotRunForever()
    {
        var result = await RunAsync("for (;;) { try { /(a+)+$/.test('a'.repeat(40) + '!'); } catch (e) { console.log(String(e)); } }",
            limits: Jobs.Limits with { WallTime = TimeSpan.FromSeconds(2) });

        Assert.False(result.Ok);
        Assert.Contains(result.Error, new[] { ReasonCodes.Timeout, ReasonCodes.OutputLimit, ReasonCodes.FuelExhausted });
    }

    [Theory]
    [InlineData("let let = 1;")]
    public async Task RunAsync_ScriptThatDoesNotParse_IsBadModule(string script)
    {
        var result = await RunAsync(script);

        Assert.Equal(ReasonCodes.BadModule, result.Error);
    }

    /// <summary>
    /// vm2-style escapes: each tries to reach the host (the CLR, the process, the file system) from inside. None may
    /// get anything but an error or a plain JavaScript value; the script prints what it got.
    /// </summary>
    [Theory]
    [InlineData("this.constructor.constructor('return process')()")]
    [InlineData("agentsec.call.constructor('return this')()")]
    [InlineData("Function('return globalThis')()")]
    [InlineData("eval('1 + 1')")]
    [InlineData("(0, eval)('importNamespace')")]
    [InlineData("new (Object.getPrototypeOf(async function () {}).constructor)('return 1')")]
    [InlineData("importNamespace('System.IO').File.ReadAllText('/etc/shadow')")]
    [InlineData("System.IO.File.ReadAllText('/etc/shadow')")]
    [InlineData("agentsec.call.GetType().Assembly")]
    [InlineData("agentsec.fs.read.GetType()")]
    [InlineData("Object.getOwnPropertyNames(agentsec.call).join()")]
    [InlineData("require('fs').readFileSync('/etc/shadow')")]
    [InlineData("process.binding('spawn_sync')")]
    [InlineData("host.type('System.IO.File')")]
    [InlineData("clr.System.IO.File")]
    public async Task RunAsync_EscapeAttempt_ReachesNothingOfTheHost(string attempt)
    {
        var result = await RunAsync($$"""
            let got;
            try { got = {{attempt}}; } catch (e) { got = 'error ' + e.name; }
            console.log(typeof got === 'object' && got !== null ? 'object ' + Object.prototype.toString.call(got) : String(got));
            """);

        Assert.True(result.Ok, result.Message);
        Assert.DoesNotContain("root:", result.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("System.", result.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("Jint", result.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("Clr", result.Output, StringComparison.Ordinal);
        Assert.Matches("^(error [A-Za-z]+|object \\[object (Object|Function|Array)\\]|[0-9]+|[a-z]+(,[a-z]+)*|undefined|function[^\n]*)\n$", result.Output);
    }

    [Fact]
    public async Task RunAsync_PrepareStackTraceHook_LeaksNoHostFrames()
    {
        var result = await RunAsync("""
            Error.prepareStackTrace = (e, frames) => frames.map((f) => f.getThis && f.getThis());
            let stack;
            try { agentsec.fs.read('/workspace/x'); } catch (e) { stack = e.stack; }
            console.log(typeof stack, Array.isArray(stack));
            """, host: new FakeHostApi());

        Assert.True(result.Ok, result.Message);
        Assert.Equal("string false\n", result.Output);
    }

    [Fact]
    public async Task RunAsync_TamperingWithTheHostObject_ChangesNothing()
    {
        var host = new FakeHostApi();

        var result = await RunAsync("""
            try { agentsec.call = () => '0'; } catch (e) {}
            try { agentsec.fs.read = () => 'forged'; } catch (e) {}
            try { Object.defineProperty(agentsec, 'fs', { value: { read: () => 'forged' } }); } catch (e) {}
            try { globalThis.agentsec = { fs: { read: () => 'forged' } }; } catch (e) {}
            try { Object.prototype.denied = false; Error.prototype.code = 'allowed'; } catch (e) {}
            try { agentsec.fs.read('/workspace/secret'); console.log('read'); } catch (e) { console.log(e.code); }
            """, host: host);

        Assert.True(result.Ok, result.Message);
        Assert.Equal("capability_not_granted\n", result.Output);
        Assert.Single(host.Calls);
    }
}

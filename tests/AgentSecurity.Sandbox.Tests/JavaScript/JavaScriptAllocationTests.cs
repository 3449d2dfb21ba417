using AgentSecurity.Grants;
using AgentSecurity.Sandbox.JavaScript;
using AgentSecurity.Sandbox.Tests.Infrastructure;

namespace AgentSecurity.Sandbox.Tests.JavaScript;

/// <summary>
/// Measures the whole process's allocations, so nothing else may run beside it: xunit runs a collection that disables
/// parallelization on its own, after the others.
/// </summary>
[CollectionDefinition(nameof(ProcessAllocationCollection), DisableParallelization = true)]
public sealed class ProcessAllocationCollection;

/// <summary>
/// One built-in call that would allocate far past the execution's memory limit (Jint looks at the limit only between
/// statements) ends the execution with <c>memory_limit</c> before allocating it, and the built-ins still work below it.
/// </summary>
[Collection(nameof(ProcessAllocationCollection))]
public sealed class JavaScriptAllocationTests : IDisposable
{
    private const long Limit = 64L * 1024 * 1024;

    private static readonly SandboxLimits Limits = Jobs.Limits with { MemoryBytes = Limit, CpuTime = TimeSpan.FromSeconds(10), WallTime = TimeSpan.FromSeconds(30) };

    private readonly JavaScriptRuntime _runtime = new();

    public void Dispose() => _runtime.Dispose();

    private Task<SandboxResult> RunAsync(string script, SandboxLimits? limits = null) =>
        _runtime.RunAsync(Jobs.For(SandboxRuntimes.JavaScript, script, limits: limits ?? Limits), FakeHostApi.AllowingEverything(), default);

    /// <summary>
    /// Each asks for at least 256 MiB in one call, four times the limit: growth under twice the limit means the call
    /// was refused before it allocated, where unguarded it allocates all of it (a 2 GiB silo growth in the attack suite).
    /// <c>s</c> is a 2 MiB string, paid for by the statement that makes it.
    /// </summary>
    [Theory]
    [InlineData("'x'.repeat(1 << 28)")]
    [InlineData("'xy'.repeat(1 << 27)")]
    [InlineData("''.padEnd(1 << 28, 'x')")]
    [InlineData("'x'.padStart(1 << 28)")]
    [InlineData("s.concat(...new Array(128).fill(s))")]
    [InlineData("const t = s + s + s + s + s + s + s + s; t + t + t + t + t + t + t + t + t + t + t + t + t + t + t + t")]
    [InlineData("new Array(128).fill(s).join('')")]
    [InlineData("new Array(1 << 18).join('x'.repeat(1 << 10))")]
    [InlineData("Array.prototype.join.call({ length: 1 << 28 }, 'x')")]
    [InlineData("String(new Array(128).fill(s))")]
    [InlineData("`${new Array(128).fill(s)}`")]
    [InlineData("new Array(128).fill(s).toLocaleString()")]
    [InlineData("new Array(128).fill(s).values().join('')")]
    [InlineData("String.raw({ raw: new Array(128).fill(s) })")]
    [InlineData("'x'.repeat(1 << 9).replaceAll('x', s)")]
    [InlineData("'x'.repeat(1 << 9).replace(/x/g, s)")]
    [InlineData("'x'.repeat(1 << 9).replace(/x/g, () => s)")]
    [InlineData("/x/g[Symbol.replace]('x'.repeat(1 << 9), s)")]
    [InlineData("'x'.repeat(1 << 17).replaceAll('x', \"$'\")")]
    [InlineData("new Uint8Array(1 << 20).join('x'.repeat(1 << 8))")]
    [InlineData("JSON.stringify(new Array(128).fill(s))")]
    [InlineData("JSON.stringify({ a: new Array(128).fill(s) }, ['a'])")]
    [InlineData("JSON.stringify(new Array(128).fill(s), (k, v) => v)")]
    [InlineData("JSON.stringify(new Array(128).fill({ toJSON: () => s }))")]
    [InlineData("JSON.stringify(new Array(128).fill(Object(s)))")]
    [InlineData("JSON.stringify(new Array(2048).fill(new Array(2048).fill(0)), null, 10)")]
    [InlineData("new ArrayBuffer(1 << 30)")]
    [InlineData("new Float64Array(1 << 27)")]
    [InlineData("new Uint8Array({ length: 1 << 30 })")]
    [InlineData("Float64Array.from({ length: 1 << 27 })")]
    [InlineData("new ArrayBuffer(8, { maxByteLength: 1 << 30 }).resize(1 << 30)")]
    [InlineData("new ArrayBuffer(8).transfer(1 << 30)")]
    [InlineData("new Array(1 << 28).fill(0)")]
    [InlineData("Array.from({ length: 1 << 28 })")]
    [InlineData("try { 'x'.repeat(1 << 28); } catch (e) { agentsec.output('caught'); }")]
    public async Task RunAsync_OneCallFarPastTheMemoryLimit_EndsWithMemoryLimitWithoutAllocatingIt(string call)
    {
        var before = GC.GetTotalAllocatedBytes(precise: true);

        var result = await RunAsync($"const s = 'x'.repeat(1 << 20);\n{call}");

        var allocated = GC.GetTotalAllocatedBytes(precise: true) - before;
        Assert.Equal(ReasonCodes.MemoryLimit, result.Error);
        Assert.Equal(string.Empty, result.Output);
        Assert.True(result.Usage.MemoryBytes < 2 * Limit, $"the execution's thread allocated {result.Usage.MemoryBytes} bytes");
        Assert.True(allocated < 2 * Limit, $"the process allocated {allocated} bytes");
    }

    [Theory]
    [InlineData("", "'ab'.repeat(1000).length", "2000")]
    [InlineData("", "'ab'.padStart(5, 'xy') + 'ab'.padEnd(3) + '|' + 'abc'.padEnd(2, 'x')", "xyxabab |abc")]
    [InlineData("", "'a'.concat('b', 1, null, { toString() { return 'o'; } })", "ab1nullo")]
    [InlineData("", "[1, [2, 3], null, undefined, 'x'].join('-') + '|' + [1, 2].join() + '|' + Array.prototype.join.call('abc', '.')", "1-2,3---x|1,2|a.b.c")]
    [InlineData("const a = [1]; a.push(a);", "String(a)", "1,")]
    [InlineData("", "[1, 'a', null].toLocaleString()", "1,a,")]
    [InlineData("", "new Uint8Array([1, 2, 3]).join('+') + '|' + String(new Int16Array(2))", "1+2+3|0,0")]
    [InlineData("", "[1, 2, 3].values().join('-')", "1-2-3")]
    [InlineData("", "\"abc\".replace(/(b)/, \"[$1|$&|$`|$'|$$|$2|$0|$<n>|$]\")", "a[b|b|a|c|$|$2|$0|$<n>|$]c")]
    [InlineData("", "'abc'.replace(/(?<n>b)/, '[$<n>|$<m>]') + '12'.replace(/(1)(2)/, '$21$12$3')", "a[b|]c2112$3")]
    [InlineData("", "'aaa'.replaceAll('a', (m, p) => p) + 'a-b'.replace('-', '$&$&') + 'xyz'.replaceAll('', '.') + 'a.a'.replace(/a/g, 'b')", "012a--b.x.y.z.b.b")]
    [InlineData("", "String.raw`a${1}b${2}c` + String.raw({ raw: ['x', 'y'] }, 1, 2, 3)", "a1b2cx1y")]
    [InlineData("", "JSON.stringify({ b: [1, 'x\"', null, true, -0.5], a: { c: undefined, d: () => 1 } })", "{\"b\":[1,\"x\\\"\",null,true,-0.5],\"a\":{}}")]
    [InlineData("", "JSON.stringify({ b: 1, a: 2, c: { a: 3, z: 4 } }, ['a', 'b', 'c'])", "{\"a\":2,\"b\":1,\"c\":{\"a\":3}}")]
    [InlineData("", "JSON.stringify({ a: [1, { b: 2 }] }, null, 2)", "{\n  \"a\": [\n    1,\n    {\n      \"b\": 2\n    }\n  ]\n}")]
    [InlineData("", "JSON.stringify({ a: 1, b: 'x' }, (k, v) => typeof v === 'number' ? v * 2 : v)", "{\"a\":2,\"b\":\"x\"}")]
    [InlineData("", "JSON.stringify([new String('s'), new Number(1), new Boolean(false), { toJSON() { return 'j'; } }])", "[\"s\",1,false,\"j\"]")]
    [InlineData("", "String(JSON.stringify(undefined)) + String(JSON.stringify(() => 1)) + JSON.stringify('\\u0001')", "undefinedundefined\"\\u0001\"")]
    [InlineData("const o = {}; o.self = o; let n; try { JSON.stringify(o); } catch (e) { n = e.name; }", "n", "TypeError")]
    [InlineData("const o = {}; o.self = o; let n; try { JSON.stringify(o, ['self']); } catch (e) { n = e.name; }", "n", "TypeError")]
    [InlineData("", "new Float64Array(4).length + new ArrayBuffer(16).byteLength + Uint8Array.from([1, 2]).length + new Uint8Array({ length: 3 }).length", "25")]
    [InlineData("", "new Uint8Array(new ArrayBuffer(8), 4).length + new Uint16Array(new Uint8Array([1, 2, 3])).length", "7")]
    [InlineData("", "new Uint8Array(2) instanceof Uint8Array && Uint8Array.prototype.constructor === Uint8Array && Object.getPrototypeOf(Uint8Array) === Object.getPrototypeOf(Int8Array) && Uint8Array.name + Uint8Array.length + Uint8Array.BYTES_PER_ELEMENT", "Uint8Array31")]
    [InlineData("class B extends Uint8Array {} const b = new B(3);", "(b instanceof B) + ' ' + b.length + ' ' + (b.slice(1) instanceof B)", "true 3 true")]
    [InlineData("", "new ArrayBuffer(8).slice(2).byteLength + ArrayBuffer.name + (new ArrayBuffer(1) instanceof ArrayBuffer) + ArrayBuffer.isView(new Uint8Array(1))", "6ArrayBuffertruetrue")]
    [InlineData("const r = new ArrayBuffer(2, { maxByteLength: 16 }); r.resize(8);", "r.byteLength + r.transfer().byteLength", "16")]
    [InlineData("", "new Array(1000).fill(0).length + Array.from({ length: 10 }).length", "1010")]
    [InlineData("const n = []; for (const f of [() => new ArrayBuffer(-1), () => 'x'.repeat(-1), () => Uint8Array(1), () => ''.padEnd(2 ** 40, 'x')]) { try { f(); } catch (e) { n.push(e.name); } }", "n.join()", "RangeError,RangeError,TypeError,RangeError")]
    public async Task RunAsync_GuardedBuiltInsBelowTheLimit_WorkAsBefore(string statements, string expression, string expected)
    {
        var result = await RunAsync($"{statements}\nagentsec.output(String({expression}));");

        Assert.True(result.Ok, result.Message);
        Assert.Equal(expected, result.Output);
    }

    [Fact]
    public async Task RunAsync_ManyCallsEachWithinTheLimit_EndWithMemoryLimitOnceTheyAddUp()
    {
        var result = await RunAsync("const kept = []; for (;;) kept.push('x'.repeat(1 << 20).concat('y'));");

        Assert.Equal(ReasonCodes.MemoryLimit, result.Error);
        Assert.True(result.Usage.MemoryBytes < 2 * Limit, $"the execution's thread allocated {result.Usage.MemoryBytes} bytes");
    }

    [Fact]
    public async Task RunAsync_ConsoleLogOfAHugeStructure_EndsWithMemoryLimit()
    {
        var result = await RunAsync("const s = 'x'.repeat(1 << 20); console.log(new Array(128).fill(s));");

        Assert.Equal(ReasonCodes.MemoryLimit, result.Error);
        Assert.True(result.Usage.MemoryBytes < 2 * Limit, $"the execution's thread allocated {result.Usage.MemoryBytes} bytes");
    }

    /// <summary>The guards build join's result themselves; like Jint's own loops they look at the engine's limits as they go.</summary>
    [Fact]
    public async Task RunAsync_JoinOfAnEnormousEmptyArrayLike_StillEndsWithALimit()
    {
        var result = await RunAsync("Array.prototype.join.call({ length: 2 ** 53 - 1 })", Limits with { CpuTime = TimeSpan.FromMilliseconds(200) });

        Assert.Contains(result.Error, new[] { ReasonCodes.FuelExhausted, ReasonCodes.Timeout, ReasonCodes.MemoryLimit });
    }
}

using System.Diagnostics;
using System.Text;
using AgentSecurity.Abstractions;
using AgentSecurity.Client;
using AgentSecurity.Grains;
using AgentSecurity.Grains.Execution;
using AgentSecurity.Hosting;
using AgentSecurity.Sandbox;
using AgentSecurity.Sandbox.Host;
using AgentSecurity.Sandbox.JavaScript;
using AgentSecurity.Sandbox.Processes;
using AgentSecurity.Sandbox.Wasm;
using AgentSecurity.Sandbox.Workspaces;
using AgentSecurity.Testing;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Storage;
using Orleans.TestingHost;

namespace AgentSecurity.Benchmarks;

/// <summary>
/// Executions: the median cost of a warm trivial execution in each runtime (the runtime alone, no grain), then the cost
/// of a checked host call (through the agent grain of an in-process silo, as agent code makes it) against the same
/// call unchecked (the same module and file read, the host answering without asking the grain), in alternating rounds.
/// Also the CPU-budget rates: fuel and Jint statements per millisecond of CPU.
/// </summary>
internal static class ExecutionBenchmark
{
    private const int Rounds = 7;
    private const int HostCalls = 2_000;

    /// <summary>Limits of a typical metered agent that meter its model calls and writes, not its reads.</summary>
    private const string MeteredNotReads = """{"llmTokensPerHour":100000,"fileBytesWrittenPerHour":10000000}""";

    private const string TrivialWasm = """(module (memory (export "memory") 1) (func (export "run")))""";

    /// <summary>Reads /workspace/bench.txt <c>$n</c> times through the host API, n from the input's first byte times 100.</summary>
    private const string ReadingWasm = """
        (module
          (import "agentsec" "input" (func $input (param i32 i32) (result i32)))
          (import "agentsec" "call" (func $call (param i32 i32 i32 i32 i32 i32) (result i32)))
          (memory (export "memory") 1)
          (data (i32.const 0) "fs.read")
          (data (i32.const 16) "/workspace/bench.txt")
          (func (export "run")
            (local $n i32)
            (drop (call $input (i32.const 64) (i32.const 8)))
            (local.set $n (i32.mul (i32.sub (i32.load8_u (i32.const 64)) (i32.const 48)) (i32.const 500)))
            (block $done
              (loop $next
                (br_if $done (i32.eqz (local.get $n)))
                (if (call $call (i32.const 0) (i32.const 7) (i32.const 16) (i32.const 20) (i32.const 0) (i32.const -1))
                  (then unreachable))
                (local.set $n (i32.sub (local.get $n) (i32.const 1)))
                (br $next)))))
        """;

    public static async Task RunAsync()
    {
        var root = Directory.CreateTempSubdirectory("agentsec-bench-");
        if (!OperatingSystem.IsWindows())
        {
            root.UnixFileMode |= UnixFileMode.GroupExecute | UnixFileMode.OtherExecute; // agents' users pass through
        }

        try
        {
            await TrivialExecutionsAsync(new WorkspaceOptions { Root = Path.Combine(root.FullName, "runtimes") });
            await HostCallsAsync(Path.Combine(root.FullName, "silo"));
        }
        finally
        {
            root.Delete(recursive: true);
        }
    }

    private static async Task TrivialExecutionsAsync(WorkspaceOptions workspaces)
    {
        using var wasm = new WasmRuntime();
        using var js = new JavaScriptRuntime();
        var process = new ProcessRuntime(new ProcessRuntimeOptions { ScratchRoot = Path.Combine(workspaces.Root, ".exec") });
        var workspace = AgentWorkspace.For(workspaces, "bench", "a");
        var limits = new SandboxLimits();
        var runs = new List<(string Name, ISandboxRuntime Runtime, byte[] Code, int Count)>
        {
            ("wasm", wasm, Encoding.UTF8.GetBytes(TrivialWasm), 2_000),
            ("js", js, Encoding.UTF8.GetBytes("agentsec.output('')"), 500),
        };
        if (process.Unavailable is null)
        {
            runs.Add(("process", process, await File.ReadAllBytesAsync("/usr/bin/true"), 40));
        }

        var medians = runs.ToDictionary(r => r.Name, _ => new List<double>());
        foreach (var round in Enumerable.Range(0, Rounds + 1))
        {
            foreach (var (name, runtime, code, count) in runs)
            {
                var job = new SandboxJob(runtime.Name, code, string.Empty, limits, workspace);
                var times = new double[count];
                for (var i = 0; i < count; i++)
                {
                    var started = Stopwatch.GetTimestamp();
                    var result = await runtime.RunAsync(job, NoHost.Instance, CancellationToken.None);
                    times[i] = Stopwatch.GetElapsedTime(started).TotalMicroseconds;
                    if (!result.Ok)
                    {
                        throw new InvalidOperationException($"{name}: {result.Error} {result.Message}");
                    }
                }

                if (round > 0)
                {
                    medians[name].Add(Median(times)); // round 0 warms up
                }
            }
        }

        Console.WriteLine("warm trivial execution, median of the per-round medians (runtime alone):");
        foreach (var (name, values) in medians)
        {
            Console.WriteLine($"  {name,-8} {Median([.. values]),10:F0} µs   (rounds: {string.Join(", ", values.Select(v => v.ToString("F0", System.Globalization.CultureInfo.InvariantCulture)))})");
        }

        if (process.Unavailable is not null)
        {
            Console.WriteLine($"  process  unavailable here: {process.Unavailable}");
        }

        var fuel = await wasm.RunAsync(new SandboxJob("wasm", Encoding.UTF8.GetBytes("(module (func (export \"run\") (loop $l (br $l))))"), string.Empty, limits with { CpuTime = TimeSpan.FromSeconds(1) }, workspace), NoHost.Instance, CancellationToken.None);
        var statements = await js.RunAsync(new SandboxJob("js", Encoding.UTF8.GetBytes("let i = 0; for (;;) { i++; }"), string.Empty, limits with { CpuTime = TimeSpan.FromSeconds(1), MemoryBytes = 1L << 40 }, workspace), NoHost.Instance, CancellationToken.None);
        Console.WriteLine($"a CPU budget of 1,000 ms: wasm used {fuel.Usage.CpuMillis} ms CPU ({fuel.Error}), js used {statements.Usage.CpuMillis} ms CPU ({statements.Error})");
    }

    private static async Task HostCallsAsync(string workspaceRoot)
    {
        var builder = new TestClusterBuilder(1);
        builder.Properties["WorkspaceRoot"] = workspaceRoot;
        builder.AddSiloBuilderConfigurator<BenchmarkSilo>();
        builder.AddClientBuilderConfigurator<BenchmarkClient>();
        await using var cluster = builder.Build();
        await cluster.DeployAsync();
        var client = new AgentSecurityClient(cluster.Client);
        var now = Grants.Documents.DocumentTime.WholeSeconds(DateTimeOffset.UtcNow);
        await client.CreateTenantAsync(TestDocuments.Tenant("bench", now, TestKeys.Root.Did.Value).SignWith(TestKeys.Operator));
        // "metered": limits that meter its model calls and writes, not its reads (a read stays on the local path).
        foreach (var (agent, limits) in new[] { ("reader", "{}"), ("metered", MeteredNotReads) })
        {
            var applied = await client.ApplyGrantAsync(TestDocuments.Grant("bench", agent, now, $"g-{agent}").SetJson("resourceLimits", limits).SignWith(TestKeys.Root));
            if (!applied.Applied)
            {
                throw new InvalidOperationException($"{applied.Error}: {applied.Message}");
            }

            if (AgentWorkspace.For(new WorkspaceOptions { Root = workspaceRoot }, "bench", agent).Write("/workspace/bench.txt", Encoding.UTF8.GetBytes("a short file the agent reads")) is { } refused)
            {
                throw new InvalidOperationException(refused.ToString());
            }
        }

        var workspace = AgentWorkspace.For(new WorkspaceOptions { Root = workspaceRoot }, "bench", "reader");

        using var wasm = new WasmRuntime();
        var withoutChecks = new UncheckedReads(workspace);
        var code = Encoding.UTF8.GetBytes(ReadingWasm);
        var checkedPerCall = new List<double>();
        var uncheckedPerCall = new List<double>();
        var meteredPerCall = new List<double>();
        foreach (var round in Enumerable.Range(0, Rounds + 1))
        {
            // Per call: the time with 4 × 500 calls less the time with none, so instantiation and messaging cancel out.
            var viaGrain = await TimeAsync(input => client.ExecuteAsync("bench", "reader", new ExecutionRequest { Runtime = "wasm", Code = code, Input = input }).ContinueWith(t => (t.Result.Ok, t.Result.Error), TaskScheduler.Default));
            var direct = await TimeAsync(input => wasm.RunAsync(new SandboxJob("wasm", code, input, new SandboxLimits(), workspace), withoutChecks, CancellationToken.None).ContinueWith(t => (t.Result.Ok, t.Result.Error), TaskScheduler.Default));
            var metered = await TimeAsync(input => client.ExecuteAsync("bench", "metered", new ExecutionRequest { Runtime = "wasm", Code = code, Input = input }).ContinueWith(t => (t.Result.Ok, t.Result.Error), TaskScheduler.Default));
            if (round > 0)
            {
                checkedPerCall.Add(viaGrain);
                uncheckedPerCall.Add(direct);
                meteredPerCall.Add(metered);
            }
        }

        var (c, u, m) = (Median([.. checkedPerCall]), Median([.. uncheckedPerCall]), Median([.. meteredPerCall]));
        Console.WriteLine($"host call fs.read, per call, median of {Rounds} rounds of {HostCalls} calls:");
        Console.WriteLine($"  checked (the grain's grant, local path)    {c,8:F1} µs");
        Console.WriteLine($"  unchecked (the same read, no check)        {u,8:F1} µs");
        Console.WriteLine($"  overhead of the check                      {c - u,8:F1} µs ({c / u:F1}×)");
        Console.WriteLine($"  checked, agent metered on other kinds     {m,8:F1} µs ({m / u:F1}×; limits {MeteredNotReads})");

        // Where the timed reads were decided, from one more execution of each agent: a read the grain decides is as correct
        // as one decided on the local path, only slower, so a figure alone would not show which path a change took.
        foreach (var agent in new[] { "reader", "metered" })
        {
            var (local, calls) = await CountLocalAsync(() => client.ExecuteAsync("bench", agent, new ExecutionRequest { Runtime = "wasm", Code = code, Input = "4" }));
            Console.WriteLine($"  {agent}: {local} of {calls} reads decided on the local path");
        }
    }

    /// <summary>
    /// Host calls of one execution and how many of them were decided on the local path, from the kernel's spans (not
    /// timed: a listener makes every host call build a span).
    /// </summary>
    private static async Task<(int Local, int Calls)> CountLocalAsync(Func<Task<ExecutionResult>> run)
    {
        var (local, calls) = (0, 0);
        using var listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == Grains.Telemetry.KernelTracing.SourceName,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllData,
            ActivityStopped = activity =>
            {
                if (activity.OperationName == Grains.Telemetry.KernelTracing.HostCall)
                {
                    Interlocked.Increment(ref calls);
                    if (activity.GetTagItem(Grains.Telemetry.KernelTracing.LocalAttribute) is true)
                    {
                        Interlocked.Increment(ref local);
                    }
                }
            },
        };
        ActivitySource.AddActivityListener(listener);
        var result = await run();
        if (!result.Ok)
        {
            throw new InvalidOperationException($"the reading module failed: {result.Error}");
        }

        return (Volatile.Read(ref local), Volatile.Read(ref calls));
    }

    /// <summary>Microseconds per host call: (time of 2,000 calls − time of none) / 2,000, each the best of three.</summary>
    private static async Task<double> TimeAsync(Func<string, Task<(bool Ok, string? Error)>> run)
    {
        async Task<double> Best(string input)
        {
            var best = double.MaxValue;
            for (var i = 0; i < 3; i++)
            {
                var started = Stopwatch.GetTimestamp();
                var (ok, error) = await run(input);
                best = Math.Min(best, Stopwatch.GetElapsedTime(started).TotalMicroseconds);
                if (!ok)
                {
                    throw new InvalidOperationException($"the reading module failed: {error}");
                }
            }

            return best;
        }

        return (await Best("4") - await Best("0")) / HostCalls;
    }

    private static double Median(double[] values)
    {
        Array.Sort(values);
        return values.Length % 2 == 1 ? values[values.Length / 2] : (values[(values.Length / 2) - 1] + values[values.Length / 2]) / 2;
    }

    internal sealed class NoHost : IHostApi
    {
        public static readonly NoHost Instance = new();

        public ValueTask<HostReply> CallAsync(HostCall call) => ValueTask.FromResult(HostReply.Fail("none", "no host in this benchmark"));
    }

    /// <summary>The baseline: what the host does for fs.read once the grain has allowed it, without asking.</summary>
    private sealed class UncheckedReads(AgentWorkspace workspace) : IHostApi
    {
        public ValueTask<HostReply> CallAsync(HostCall call) =>
            ValueTask.FromResult(workspace.Read(call.Argument!, 1024 * 1024).TryGetValue(out var text, out var failure)
                ? HostReply.Success(text)
                : HostReply.Fail(failure.Code, failure.Message));
    }
}

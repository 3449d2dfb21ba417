using System.Diagnostics;
using System.Globalization;
using System.Text;
using AgentSecurity.Abstractions;
using AgentSecurity.Client;
using AgentSecurity.Sandbox;
using AgentSecurity.Sandbox.Host;
using AgentSecurity.Sandbox.JavaScript;
using AgentSecurity.Sandbox.Processes;
using AgentSecurity.Sandbox.Workspaces;
using AgentSecurity.Testing;
using Orleans.TestingHost;

namespace AgentSecurity.Benchmarks;

/// <summary>
/// JavaScript out of the silo's process, in one run: (1) the median of a trivial execution on a warm worker of the pool,
/// against Jint in this process, and how long the pool takes to have a warm worker again; (2) the silo's check latency
/// (p50, p99, max) while JavaScript memory bombs (each allocating up to 512 MiB, the silo's largest memory limit) run
/// back to back, first in the silo's process (Jint in process, as before the worker pool) and then in the pool's workers,
/// in alternating phases, after a quiet phase with no bomb; a first round is run and not counted, and each mode's figure
/// is the median over the rounds of its per-phase p99. Needs root and bubblewrap, as the pool does.
/// </summary>
internal static class JsWorkerBenchmark
{
    private const int Rounds = 3;
    private const int InProcessRuns = 200;
    private const int PoolRuns = 10;
    // Counted rounds, after one that is not: the first round after the cluster's start is the noisy one in every mode.
    private const int BombRounds = 8;
    private static readonly TimeSpan Phase = TimeSpan.FromSeconds(6);
    private const string Trivial = "agentsec.output('')";
    private const string Bomb = "const kept = []; for (let i = 0; ; i++) kept.push('x'.repeat(1 << 20) + i);";

    public static async Task RunAsync()
    {
        var root = Directory.CreateTempSubdirectory("agentsec-bench-js-");
        if (!OperatingSystem.IsWindows())
        {
            root.UnixFileMode |= UnixFileMode.GroupExecute | UnixFileMode.OtherExecute; // workers' users pass through
        }

        try
        {
            var pool = new JsWorkerPool(new ProcessRuntimeOptions { ScratchRoot = Path.Combine(root.FullName, ".exec") }, new JsWorkerPoolOptions());
            await using (pool)
            {
                if (pool.Unavailable is not null)
                {
                    Console.WriteLine($"javascript worker pool unavailable here: {pool.Unavailable}");
                    return;
                }

                using var inProcess = new JavaScriptRuntime();
                var workspace = AgentWorkspace.For(new WorkspaceOptions { Root = Path.Combine(root.FullName, "runtimes") }, "bench", "js");
                await TrivialAsync(inProcess, pool, workspace, Path.Combine(root.FullName, ".exec-as-before"));

                // JS_TRIVIAL_ONLY=1: the trivial execution's figures alone, in a minute rather than several.
                if (Environment.GetEnvironmentVariable("JS_TRIVIAL_ONLY") != "1")
                {
                    await BombsAsync(inProcess, pool, workspace, Path.Combine(root.FullName, "silo"));
                }
            }
        }
        finally
        {
            root.Delete(recursive: true);
        }
    }

    private static async Task TrivialAsync(JavaScriptRuntime inProcess, JsWorkerPool pool, AgentWorkspace workspace, string asBeforeScratch)
    {
        var job = new SandboxJob(SandboxRuntimes.JavaScript, Encoding.UTF8.GetBytes(Trivial), string.Empty, new SandboxLimits(), workspace);
        using var deadline = new CancellationTokenSource(TimeSpan.FromMinutes(30));
        List<double> local = [], pooled = [], refill = [], floor = [], before = [];

        // The same-run baseline of the worker as it was before its engine was built ahead of the job and kept warm: a
        // pool whose workers run no keep-warm jobs, given a job whose memory limit is not the one their engine was built
        // for (the default plus 4 KiB), so that its engine is built after the job arrives, as every job's was.
        await using var asBefore = new JsWorkerPool(new ProcessRuntimeOptions { ScratchRoot = asBeforeScratch }, new JsWorkerPoolOptions { KeepWarmEvery = TimeSpan.Zero });
        var asBeforeJob = job with { Limits = job.Limits with { MemoryBytes = job.Limits.MemoryBytes + 4096 } };

        // The floor of any process boundary on this machine at this moment: a line to an idle cat and back through
        // pipes, taken just before each pool execution, after the same idle wait (no .NET, no engine in it).
        using var echo = new Process { StartInfo = new ProcessStartInfo("cat") { RedirectStandardInput = true, RedirectStandardOutput = true, UseShellExecute = false } };
        echo.Start();
        foreach (var round in Enumerable.Range(0, Rounds + 1))
        {
            var inProcessTimes = new double[InProcessRuns];
            for (var i = 0; i < InProcessRuns; i++)
            {
                inProcessTimes[i] = await TimeAsync(() => inProcess.RunAsync(job, ExecutionBenchmark.NoHost.Instance, CancellationToken.None));
            }

            // Each execution on a warm worker: the pool is let refill first, as a silo's is between executions.
            var poolTimes = new double[PoolRuns];
            var refillTimes = new double[PoolRuns];
            var floorTimes = new double[PoolRuns];
            var beforeTimes = new double[PoolRuns];
            for (var i = 0; i < PoolRuns; i++)
            {
                // Both pools full before each execution: a replacement's start (a burst of CPU) never runs beside one.
                await asBefore.WaitWarmAsync(deadline.Token);
                var waited = Stopwatch.GetTimestamp();
                await pool.WaitWarmAsync(deadline.Token);
                refillTimes[i] = Stopwatch.GetElapsedTime(waited).TotalMilliseconds;
                beforeTimes[i] = await TimeAsync(() => asBefore.RunAsync(asBeforeJob, ExecutionBenchmark.NoHost.Instance, CancellationToken.None));
                await asBefore.WaitWarmAsync(deadline.Token);
                await pool.WaitWarmAsync(deadline.Token);
                var echoed = Stopwatch.GetTimestamp();
                await echo.StandardInput.WriteLineAsync("x");
                await echo.StandardInput.FlushAsync();
                _ = await echo.StandardOutput.ReadLineAsync();
                floorTimes[i] = Stopwatch.GetElapsedTime(echoed).TotalMicroseconds;
                poolTimes[i] = await TimeAsync(() => pool.RunAsync(job, ExecutionBenchmark.NoHost.Instance, CancellationToken.None));
            }

            Console.WriteLine($"  round {round}: pool {Median(poolTimes):F0} µs, as before {Median(beforeTimes):F0} µs, pipe round trip {Median(floorTimes):F0} µs, in process {Median(inProcessTimes):F0} µs{(round == 0 ? " (warm-up, not counted)" : string.Empty)}");
            if (round > 0)
            {
                before.Add(Median(beforeTimes));
                local.Add(Median(inProcessTimes));
                pooled.Add(Median(poolTimes));
                floor.Add(Median(floorTimes));
                refill.Add(Median(refillTimes[1..]));
            }
        }

        Console.WriteLine($"trivial JavaScript execution, median of the per-round medians (load average {LoadAverage()}):");
        Console.WriteLine($"  worker pool (warm worker, own process)  {Median([.. pooled]),8:F0} µs   (rounds: {Join(pooled)})");
        Console.WriteLine($"  as before (no keep-warm, engine after the job) {Median([.. before]),8:F0} µs   (rounds: {Join(before)})");
        Console.WriteLine($"  Jint in the silo's process (baseline)   {Median([.. local]),8:F0} µs   (rounds: {Join(local)})");
        Console.WriteLine($"  pipe round trip to an idle cat (floor)   {Median([.. floor]),8:F0} µs   (rounds: {Join(floor)})");
        Console.WriteLine($"  the pool warm again after an execution  {Median([.. refill]),8:F0} ms   (median wait before the next run; rounds: {Join(refill)})");
    }

    private static async Task BombsAsync(JavaScriptRuntime inProcess, JsWorkerPool pool, AgentWorkspace workspace, string workspaceRoot)
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
        var applied = await client.ApplyGrantAsync(TestDocuments.Grant("bench", "checker", now).SignWith(TestKeys.Root));
        if (!applied.Applied)
        {
            throw new InvalidOperationException($"{applied.Error}: {applied.Message}");
        }

        var check = new CheckRequest(Capabilities.FileSystemRead, "/workspace/a.txt");
        for (var i = 0; i < 2_000; i++)
        {
            await client.CheckAsync("bench", "checker", check); // warm
        }

        var bomb = new SandboxJob(SandboxRuntimes.JavaScript, Encoding.UTF8.GetBytes(Bomb), string.Empty,
            new SandboxLimits { MemoryBytes = 512L * 1024 * 1024, CpuTime = TimeSpan.FromSeconds(30), WallTime = TimeSpan.FromSeconds(30) }, workspace);

        // Alternating rounds, the order flipped each round, so that neither mode always follows the other (or the
        // quiet phase) and a change of the machine's load during the run falls on both.
        const string Quiet = "no bomb", InProcess = "bombs in the silo's process (Jint in process)", Pooled = "bombs in the worker pool";
        var p99s = new Dictionary<string, List<double>> { [Quiet] = [], [InProcess] = [], [Pooled] = [] };
        var maxima = new Dictionary<string, List<double>> { [Quiet] = [], [InProcess] = [], [Pooled] = [] };
        var pauses = new Dictionary<string, List<int>> { [Quiet] = [], [InProcess] = [], [Pooled] = [] };

        // One caller in a loop: the checks a phase completes measure the mean latency, which moves where the p99 does not.
        var counts = new Dictionary<string, List<double>> { [Quiet] = [], [InProcess] = [], [Pooled] = [] };
        Console.WriteLine($"silo GC: server {System.Runtime.GCSettings.IsServerGC}, latency mode {System.Runtime.GCSettings.LatencyMode}; load average {LoadAverage()}");
        for (var round = -1; round < BombRounds; round++)
        {
            List<(string Name, ISandboxRuntime? Runtime)> phases = round % 2 == 0
                ? [(Quiet, null), (InProcess, inProcess), (Pooled, pool)]
                : [(Quiet, null), (Pooled, pool), (InProcess, inProcess)];
            var line = new StringBuilder(round < 0 ? "  warm-up round (not counted):" : $"  round {round}:");
            foreach (var (name, runtime) in phases)
            {
                GC.Collect();
                await pool.WaitWarmAsync(CancellationToken.None);
                var gen2Before = GC.CollectionCount(2);
                using var stop = new CancellationTokenSource(Phase);
                var ended = new List<string>();
                var bomber = runtime is null ? Task.CompletedTask : Task.Run(async () =>
                {
                    while (!stop.IsCancellationRequested)
                    {
                        var result = await runtime.RunAsync(bomb, ExecutionBenchmark.NoHost.Instance, CancellationToken.None);
                        ended.Add(result.Error ?? "ok");
                    }
                });
                var latencies = new List<double>();
                while (!stop.IsCancellationRequested)
                {
                    var started = Stopwatch.GetTimestamp();
                    var decision = await client.CheckAsync("bench", "checker", check);
                    latencies.Add(Stopwatch.GetElapsedTime(started).TotalMicroseconds);
                    if (!decision.Allowed)
                    {
                        throw new InvalidOperationException($"the check was denied: {decision.Reason}");
                    }
                }

                await bomber;
                latencies.Sort();
                var gen2 = GC.CollectionCount(2) - gen2Before;
                if (round >= 0)
                {
                    p99s[name].Add(Percentile(latencies, 0.99));
                    maxima[name].Add(latencies[^1]);
                    pauses[name].Add(gen2);
                    counts[name].Add(latencies.Count);
                }

                var endings = string.Join(", ", ended.GroupBy(c => c).Select(g => $"{g.Count()} {g.Key}"));
                line.Append(CultureInfo.InvariantCulture, $" [{(runtime is null ? "quiet" : runtime == pool ? "pool" : "in process")}: p99 {Percentile(latencies, 0.99):F0} µs, max {latencies[^1]:F0} µs, {latencies.Count} checks, silo gen2 GCs {gen2}, bombs {(endings.Length > 0 ? endings : "none")}]");
            }

            Console.WriteLine(line);
        }

        Console.WriteLine($"silo check latency (fileSystem:read, one caller in a loop) while JavaScript memory bombs of 512 MiB run back to back; {BombRounds} alternating rounds of {Phase.TotalSeconds:0} s phases after one not counted; medians over the rounds of the per-phase figures:");
        foreach (var name in (string[])[Quiet, InProcess, Pooled])
        {
            Console.WriteLine($"  {name,-48} p99 {Median([.. p99s[name]]),8:F0} µs   max {Median([.. maxima[name]]),8:F0} µs   silo gen2 GCs {Median([.. pauses[name].Select(p => (double)p)]),3:F0}   checks a phase {Median([.. counts[name]]),8:F0}   (p99 per round: {Join(p99s[name])})");
        }

        var better = p99s[InProcess].Zip(p99s[Pooled]).Count(pair => pair.Second < pair.First);
        var more = counts[InProcess].Zip(counts[Pooled]).Count(pair => pair.Second > pair.First);
        Console.WriteLine($"  rounds in which the pool's p99 was lower than in process: {better} of {BombRounds}; in which the pool's phase completed more checks: {more} of {BombRounds}; load average {LoadAverage()}");
    }

    private static string LoadAverage() => File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "?";

    private static async Task<double> TimeAsync(Func<Task<SandboxResult>> run)
    {
        var started = Stopwatch.GetTimestamp();
        var result = await run();
        var elapsed = Stopwatch.GetElapsedTime(started).TotalMicroseconds;
        return result.Ok ? elapsed : throw new InvalidOperationException($"{result.Error}: {result.Message}");
    }

    private static double Percentile(List<double> sorted, double p) => sorted[Math.Min(sorted.Count - 1, (int)Math.Ceiling(p * sorted.Count) - 1)];

    private static double Median(double[] values)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[(sorted.Length / 2) - 1] + sorted[sorted.Length / 2]) / 2;
    }

    private static string Join(List<double> values) => string.Join(", ", values.Select(v => v.ToString("F0", CultureInfo.InvariantCulture)));
}

using System.Globalization;
using AgentSecurity.Benchmarks;
using BenchmarkDotNet.Running;

// The in-process figures are BenchmarkDotNet benchmarks; anything but the names below goes to BenchmarkDotNet, so
// `-- --filter '*Decision*' --job short` or `-- --list flat`. `decisions` and `scopes` are filters for them, kept as
// the docs name them, and take further BenchmarkDotNet arguments. `sanity` runs each once, in this process (--job dry
// --inProcess: no generated project to build), to see that they work, not to measure. The cluster- and process-level
// figures time themselves and print medians with a baseline measured in the same run: `memory [agents]`,
// `executions`, `javascript` (the worker pool), `workspaces`. `all` runs everything.
var benchmarks = BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly);
var config = BenchmarkConfig.Create();
var further = args.Skip(1).ToArray();
switch (args.FirstOrDefault())
{
    case "decisions":
        return BenchmarkConfig.ExitCode([.. benchmarks.Run(["--filter", "*.DecisionBenchmarks.*", .. further], config)]);
    case "scopes":
        return BenchmarkConfig.ExitCode([.. benchmarks.Run(["--filter", "*.ScopeMatchBenchmarks.*", "*.DelegationCoverageBenchmarks.*", .. further], config)]);
    case "sanity":
        var ran = benchmarks.Run(["--filter", "*", "--job", "dry", "--inProcess", .. further], config).ToList();
        return ran.Count == 0 ? 1 : BenchmarkConfig.ExitCode(ran);
    case "memory":
        await ActivationMemoryBenchmark.RunAsync(
            further.FirstOrDefault(a => !a.StartsWith("--", StringComparison.Ordinal)) is { } count ? int.Parse(count, CultureInfo.InvariantCulture) : 5_000,
            distinct: further.Contains("--distinct"));
        return 0;
    case "executions":
        await ExecutionBenchmark.RunAsync();
        return 0;
    case "workspaces":
        WorkspaceBenchmark.Run();
        return 0;
    case "javascript":
        await JsWorkerBenchmark.RunAsync();
        return 0;
    case "all":
        var summaries = benchmarks.Run(["--filter", "*", .. further], config).ToList();
        await ActivationMemoryBenchmark.RunAsync(5_000, distinct: false);
        await ExecutionBenchmark.RunAsync();
        await JsWorkerBenchmark.RunAsync();
        WorkspaceBenchmark.Run();
        return BenchmarkConfig.ExitCode(summaries);
    default:
        return BenchmarkConfig.ExitCode([.. benchmarks.Run(args, config)]);
}

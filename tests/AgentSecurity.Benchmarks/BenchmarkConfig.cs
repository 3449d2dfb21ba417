using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Reports;

namespace AgentSecurity.Benchmarks;

/// <summary>
/// BenchmarkDotNet's defaults, plus the median: the machines this runs on are shared and noisy, and the mean is the
/// first figure a noisy neighbour moves. The project BenchmarkDotNet generates rebuilds the kernel's projects (Orleans'
/// code generation included), which takes longer than its default 2 minutes on a 2-core machine. Results go beside
/// the build, not into whatever folder it was run from.
/// </summary>
internal static class BenchmarkConfig
{
    public static IConfig Create() => DefaultConfig.Instance
        .AddColumn(StatisticColumn.Median)
        .WithBuildTimeout(TimeSpan.FromMinutes(10))
        .WithArtifactsPath(Path.Combine(AppContext.BaseDirectory, "BenchmarkDotNet.Artifacts"));

    /// <summary>1 when a benchmark failed (or did not run); BenchmarkDotNet reports it but exits 0.</summary>
    public static int ExitCode(IReadOnlyCollection<Summary> summaries) =>
        summaries.Any(s => s.HasCriticalValidationErrors || s.Reports.Any(r => !r.Success)) ? 1 : 0;
}

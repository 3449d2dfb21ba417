using System.Diagnostics;

namespace AgentSecurity.Cli.Bench;

/// <summary>Runs a call from many concurrent workers for a fixed time and records every call's latency.</summary>
internal static class LoadPhase
{
    public sealed record Outcome(long Calls, double Seconds, long[] LatencyTicks, long Failures)
    {
        public double CallsPerSecond => Calls / Seconds;

        /// <summary>CPU the client and the silo used during the phase (the silo's zero unless <see cref="ProcessCpu"/> has one).</summary>
        public (TimeSpan Client, TimeSpan Silo) Cpu { get; init; }
    }

    // call(i) makes call number i of a worker and returns false for a failed (e.g. denied) call.
    public static async Task<Outcome> RunAsync(int concurrency, TimeSpan duration, Func<int, ValueTask<bool>> call, CancellationToken cancellation, ProcessCpu? cpu = null)
    {
        var cpuBefore = cpu?.Now() ?? default;
        var start = Stopwatch.GetTimestamp();
        var end = start + (long)(duration.TotalSeconds * Stopwatch.Frequency);
        var workers = Enumerable.Range(0, concurrency).Select(worker => Task.Run(async () =>
        {
            var latencies = new List<long>(4096);
            long failures = 0;
            var i = worker;
            while (!cancellation.IsCancellationRequested)
            {
                var t0 = Stopwatch.GetTimestamp();
                if (t0 >= end)
                {
                    break;
                }

                if (!await call(i))
                {
                    failures++;
                }

                latencies.Add(Stopwatch.GetTimestamp() - t0);
                i += concurrency;
            }

            return (latencies, failures);
        }, cancellation)).ToArray();

        var results = await Task.WhenAll(workers);
        var seconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
        var cpuAfter = cpu?.Now() ?? default;
        var all = results.SelectMany(r => r.latencies).ToArray();
        return new Outcome(all.Length, seconds, all, results.Sum(r => r.failures)) { Cpu = (cpuAfter.Client - cpuBefore.Client, cpuAfter.Silo - cpuBefore.Silo) };
    }

    /// <summary>Microseconds of CPU per call over the phases, from the side <paramref name="side"/> picks; null without calls.</summary>
    public static double? CpuMicrosPerCall(IReadOnlyCollection<Outcome> phases, Func<(TimeSpan Client, TimeSpan Silo), TimeSpan> side)
    {
        var calls = phases.Sum(o => o.Calls);
        return calls == 0 ? null : Math.Round(phases.Sum(o => side(o.Cpu).TotalMicroseconds) / calls, 2);
    }

    public static double PercentileMillis(long[] ticks, double percentile)
    {
        if (ticks.Length == 0)
        {
            return double.NaN;
        }

        var sorted = ticks.Order().ToArray();
        var index = (int)Math.Clamp(Math.Ceiling(percentile / 100 * sorted.Length) - 1, 0, sorted.Length - 1);
        return sorted[index] * 1000.0 / Stopwatch.Frequency;
    }

    public static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[(sorted.Length / 2) - 1] + sorted[sorted.Length / 2]) / 2;
    }
}

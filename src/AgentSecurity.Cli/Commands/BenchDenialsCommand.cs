using System.CommandLine;
using AgentSecurity.Abstractions;
using AgentSecurity.Cli.Bench;
using AgentSecurity.Grants;

namespace AgentSecurity.Cli.Commands;

/// <summary>
/// <c>bench denials</c>: denied checks per second through the client against the running cluster, each answered only once
/// its event is in the tenant's queue, next to a trivial call (<see cref="IAgentGrain.PingAsync"/>) on the same grains, in
/// alternating rounds of the same run; and, where the silos' <c>/metrics</c> can be read, how long the silos' denials
/// waited for their recording and how many events shared a queue write.
/// </summary>
internal static class BenchDenialsCommand
{
    private const int Rounds = 10;

    public static Command Create(CliApp app, Option<string> operatorKey)
    {
        var agents = new Option<int>("--agents") { Description = "Agents (grains) to spread the denials over (default 256)", DefaultValueFactory = _ => 256 };
        var concurrency = new Option<int>("--concurrency") { Description = "Calls in flight (default 256)", DefaultValueFactory = _ => 256 };
        var seconds = new Option<int>("--seconds") { Description = "Measured seconds, split over the two kinds of call (default 20)", DefaultValueFactory = _ => 20 };
        var metrics = new Option<string[]>("--metrics")
        {
            Description = "The silos' Prometheus endpoints, to read their denial recording times (default: http://127.0.0.1:$AGENTSEC_HTTP_PORT/metrics, 8080; an unreadable one leaves those figures out)",
            DefaultValueFactory = _ => [$"http://127.0.0.1:{(Environment.GetEnvironmentVariable("AGENTSEC_HTTP_PORT") is { Length: > 0 } p ? p : "8080")}/metrics"],
            AllowMultipleArgumentsPerToken = true,
        };
        var command = new Command("denials", "Denied checks per second and their latency (each waits for its queue write) against a trivial grain call, in the same run")
        {
            agents, concurrency, seconds, metrics, operatorKey,
        };
        command.SetAction(async (result, cancellation) =>
        {
            var output = app.OutputFor(result);
            var (n, c, s) = (result.GetValue(agents), result.GetValue(concurrency), result.GetValue(seconds));
            var urls = new List<Uri>();
            foreach (var text in result.GetValue(metrics) ?? [])
            {
                if (!Uri.TryCreate(text, UriKind.Absolute, out var url) || url.Scheme is not ("http" or "https"))
                {
                    return output.Usage($"--metrics {text}: an http(s) URL");
                }

                urls.Add(url);
            }

            if (n is < 1 or > 100_000 || c is < 1 or > 10_000 || s is < 2 or > 3600)
            {
                return output.Usage("--agents 1..100000, --concurrency 1..10000, --seconds 2..3600");
            }

            var key = KeyFiles.Read(result.GetRequiredValue(operatorKey));
            if (!key.Succeeded)
            {
                return output.Error(key.Failure.Code, key.Failure.Message, ExitCodes.Usage);
            }

            return await CommandSupport.WithClusterAsync(result, output, async client =>
            {
                var grains = await BenchCommand.PrepareAsync(client, key.Value, n, limits: false, output);
                if (grains is null)
                {
                    return output.Error(ReasonCodes.Unavailable, "could not create the benchmark tenant and grants");
                }

                // Out of the grants' scope (/workspace/**): denied, and recorded before the answer. After 50 in 10 s an agent
                // is quarantined by the deny-burst rule; its checks stay denials (quarantined), recorded alike.
                var denied = new CheckRequest("fileSystem:read", "/etc/shadow");
                long unrecorded = 0;
                async ValueTask<bool> Deny(int i)
                {
                    var decision = await grains[i % grains.Length].CheckAsync(denied);
                    if (decision.Allowed || decision.Reason == ReasonCodes.Unavailable)
                    {
                        Interlocked.Increment(ref unrecorded);
                        return false;
                    }

                    return true;
                }

                async ValueTask<bool> Ping(int i)
                {
                    await grains[i % grains.Length].PingAsync();
                    return true;
                }

                output.Progress($"warming up ({c} in flight over {n} agents)...");
                await LoadPhase.RunAsync(c, TimeSpan.FromSeconds(3), Ping, cancellation);
                await LoadPhase.RunAsync(c, TimeSpan.FromSeconds(3), Deny, cancellation);

                using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
                const string Recording = "agentsec_audit_denial_record_duration_milliseconds";
                const string Writes = "agentsec_audit_queue_write_events";
                const string WriteTimes = "agentsec_audit_queue_write_duration_milliseconds";
                var recordingBefore = await SiloHistogram.ReadAsync(http, urls, Recording, "recorded=\"true\"", cancellation);
                var writesBefore = await SiloHistogram.ReadAsync(http, urls, Writes, null, cancellation);
                var writeTimesBefore = await SiloHistogram.ReadAsync(http, urls, WriteTimes, "written=\"true\"", cancellation);

                var phase = TimeSpan.FromSeconds(s / (2.0 * Rounds));
                var baseline = new List<LoadPhase.Outcome>();
                var measured = new List<LoadPhase.Outcome>();
                for (var round = 1; round <= Rounds; round++)
                {
                    // Every other round in reverse order, so that neither kind always follows the other.
                    var kinds = new (List<LoadPhase.Outcome> Into, Func<int, ValueTask<bool>> Call)[] { (baseline, Ping), (measured, Deny) };
                    foreach (var (into, call) in round % 2 == 1 ? kinds : kinds.Reverse())
                    {
                        into.Add(await LoadPhase.RunAsync(c, phase, call, cancellation));
                    }

                    output.Progress($"round {round}: denials {measured[^1].CallsPerSecond:F0}/s, trivial calls {baseline[^1].CallsPerSecond:F0}/s");
                }

                var recording = recordingBefore is null ? null : (await SiloHistogram.ReadAsync(http, urls, Recording, "recorded=\"true\"", cancellation))?.Since(recordingBefore);
                var writes = writesBefore is null ? null : (await SiloHistogram.ReadAsync(http, urls, Writes, null, cancellation))?.Since(writesBefore);
                var writeTimes = writeTimesBefore is null ? null : (await SiloHistogram.ReadAsync(http, urls, WriteTimes, "written=\"true\"", cancellation))?.Since(writeTimesBefore);
                double? Figure(double value) => double.IsNaN(value) ? null : Math.Round(value, 3);
                var denialTicks = measured.SelectMany(o => o.LatencyTicks).ToArray();
                var baseTicks = baseline.SelectMany(o => o.LatencyTicks).ToArray();
                var report = new
                {
                    denialsPerSecond = Math.Round(LoadPhase.Median(measured.Select(o => o.CallsPerSecond))),
                    baselineCallsPerSecond = Math.Round(LoadPhase.Median(baseline.Select(o => o.CallsPerSecond))),
                    ratio = Math.Round(LoadPhase.Median(measured.Zip(baseline, (m, b) => m.CallsPerSecond / b.CallsPerSecond)), 3),
                    p50Ms = Math.Round(LoadPhase.PercentileMillis(denialTicks, 50), 3),
                    p99Ms = Math.Round(LoadPhase.PercentileMillis(denialTicks, 99), 3),
                    baselineP50Ms = Math.Round(LoadPhase.PercentileMillis(baseTicks, 50), 3),
                    baselineP99Ms = Math.Round(LoadPhase.PercentileMillis(baseTicks, 99), 3),
                    siloRecordingP50Ms = recording is null ? null : Figure(recording.Percentile(50)),
                    siloRecordingP99Ms = recording is null ? null : Figure(recording.Percentile(99)),
                    siloRecordingMeanMs = recording is null ? null : Figure(recording.Mean),
                    eventsPerQueueWrite = writes is null ? null : Figure(writes.Mean),
                    siloQueueWriteP50Ms = writeTimes is null ? null : Figure(writeTimes.Percentile(50)),
                    siloQueueWriteP99Ms = writeTimes is null ? null : Figure(writeTimes.Percentile(99)),
                    siloQueueWriteMeanMs = writeTimes is null ? null : Figure(writeTimes.Mean),
                    denials = measured.Sum(o => o.Calls),
                    unrecorded = Interlocked.Read(ref unrecorded),
                    agents = n,
                    concurrency = c,
                    seconds = s,
                    rounds = Rounds,
                };
                var silo = recording is null
                    ? "silo-side figures: not read (--metrics unreachable)"
                    : $"silo-side: a denial waited p50 {report.siloRecordingP50Ms} ms, p99 {report.siloRecordingP99Ms} ms for its recording, of which the queue write itself took p50 {report.siloQueueWriteP50Ms} ms, p99 {report.siloQueueWriteP99Ms} ms (histogram buckets, interpolated; means {report.siloRecordingMeanMs} and {report.siloQueueWriteMeanMs} ms); {report.eventsPerQueueWrite} events per queue write";
                return output.Answer(report.unrecorded == 0 ? ExitCodes.Ok : ExitCodes.No, report,
                    $"denials: {report.denialsPerSecond:F0}/s (p50 {report.p50Ms} ms, p99 {report.p99Ms} ms)\n" +
                    $"trivial grain call: {report.baselineCallsPerSecond:F0}/s (p50 {report.baselineP50Ms} ms, p99 {report.baselineP99Ms} ms)\n" +
                    $"{silo}\n" +
                    $"ratio {report.ratio} (median of {Rounds} alternating rounds; {n} agents, {c} in flight, {report.unrecorded} answers allowed or unavailable)");
            }, cancellation);
        });
        return command;
    }
}

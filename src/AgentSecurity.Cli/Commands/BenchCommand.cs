using System.CommandLine;
using AgentSecurity.Abstractions;
using AgentSecurity.Cli.Bench;
using AgentSecurity.Grants;
using AgentSecurity.Grants.Crypto;
using AgentSecurity.Grants.Documents;
using AgentSecurity.Grants.Json;

namespace AgentSecurity.Cli.Commands;

/// <summary>
/// <c>bench checks</c>: checks per second through the client against the running cluster, next to the rate of a
/// trivial call (<see cref="IAgentGrain.PingAsync"/>) on the same grains, measured in alternating rounds of the
/// same run so that a noisy machine affects both alike.
/// </summary>
internal static class BenchCommand
{
    private const int Rounds = 3;

    public static Command Create(CliApp app)
    {
        var agents = new Option<int>("--agents") { Description = "Agents (grains) to spread the load over (default 64)", DefaultValueFactory = _ => 64 };
        var concurrency = new Option<int>("--concurrency") { Description = "Calls in flight (default 256)", DefaultValueFactory = _ => 256 };
        var seconds = new Option<int>("--seconds") { Description = "Measured seconds, split over both kinds of call (default 12)", DefaultValueFactory = _ => 12 };
        var operatorKey = new Option<string?>("--operator-key")
        {
            Description = "The operator's key file, to create a throw-away tenant (default: $AGENTSEC_OPERATOR_KEY or .agentsec/operator.key)",
            DefaultValueFactory = _ => Environment.GetEnvironmentVariable("AGENTSEC_OPERATOR_KEY") is { Length: > 0 } k ? k : Path.Combine(".agentsec", "operator.key"),
        };
        var checks = new Command("checks", "Checks per second against a trivial grain call, in the same run") { agents, concurrency, seconds, operatorKey };
        checks.SetAction(async (result, cancellation) =>
        {
            var output = app.OutputFor(result);
            var (n, c, s) = (result.GetValue(agents), result.GetValue(concurrency), result.GetValue(seconds));
            if (n is < 1 or > 100_000 || c is < 1 or > 10_000 || s is < 2 or > 3600)
            {
                return output.Usage("--agents 1..100000, --concurrency 1..10000, --seconds 2..3600");
            }

            var key = KeyFiles.Read(result.GetValue(operatorKey)!);
            if (!key.Succeeded)
            {
                return output.Error(key.Failure!.Code, key.Failure.Message, ExitCodes.Usage);
            }

            var (connection, problem) = await ClusterConnection.ConnectAsync(result.GetValue(CliApp.GatewayOption), cancellation);
            if (connection is null)
            {
                return output.Error(problem!.Code, problem.Message);
            }

            await using (connection)
            {
                var grains = await PrepareAsync(connection, key.Value, n, output);
                if (grains is null)
                {
                    return output.Error(ReasonCodes.Unavailable, "could not create the benchmark tenant and grants");
                }

                var request = new CheckRequest("fileSystem:write", "/workspace/out.txt");
                async ValueTask<bool> Check(int i) => (await grains[i % grains.Length].CheckAsync(request)).Allowed;
                async ValueTask<bool> Ping(int i)
                {
                    await grains[i % grains.Length].PingAsync();
                    return true;
                }

                output.Progress($"warming up ({c} in flight over {n} agents)...");
                await LoadPhase.RunAsync(c, TimeSpan.FromSeconds(1), Ping, cancellation);
                await LoadPhase.RunAsync(c, TimeSpan.FromSeconds(1), Check, cancellation);

                var phase = TimeSpan.FromSeconds(s / (2.0 * Rounds));
                var baseline = new List<LoadPhase.Outcome>();
                var measured = new List<LoadPhase.Outcome>();
                for (var round = 1; round <= Rounds; round++)
                {
                    baseline.Add(await LoadPhase.RunAsync(c, phase, Ping, cancellation));
                    measured.Add(await LoadPhase.RunAsync(c, phase, Check, cancellation));
                    output.Progress($"round {round}: checks {measured[^1].CallsPerSecond:F0}/s, trivial calls {baseline[^1].CallsPerSecond:F0}/s");
                }

                var checkRate = LoadPhase.Median(measured.Select(o => o.CallsPerSecond));
                var baseRate = LoadPhase.Median(baseline.Select(o => o.CallsPerSecond));
                var checkTicks = measured.SelectMany(o => o.LatencyTicks).ToArray();
                var baseTicks = baseline.SelectMany(o => o.LatencyTicks).ToArray();
                var report = new
                {
                    checksPerSecond = Math.Round(checkRate),
                    baselineCallsPerSecond = Math.Round(baseRate),
                    ratio = Math.Round(checkRate / baseRate, 3),
                    p50Ms = Math.Round(LoadPhase.PercentileMillis(checkTicks, 50), 3),
                    p99Ms = Math.Round(LoadPhase.PercentileMillis(checkTicks, 99), 3),
                    baselineP50Ms = Math.Round(LoadPhase.PercentileMillis(baseTicks, 50), 3),
                    baselineP99Ms = Math.Round(LoadPhase.PercentileMillis(baseTicks, 99), 3),
                    checks = measured.Sum(o => o.Calls),
                    denied = measured.Sum(o => o.Failures),
                    agents = n,
                    concurrency = c,
                    seconds = s,
                    rounds = Rounds,
                };
                return output.Answer(report.denied == 0 ? ExitCodes.Ok : ExitCodes.No, report,
                    $"checks: {report.checksPerSecond:F0}/s (p50 {report.p50Ms} ms, p99 {report.p99Ms} ms)\n" +
                    $"trivial grain call: {report.baselineCallsPerSecond:F0}/s (p50 {report.baselineP50Ms} ms, p99 {report.baselineP99Ms} ms)\n" +
                    $"ratio {report.ratio} (median of {Rounds} alternating rounds; {n} agents, {c} in flight, {report.denied} unexpected denials)");
            }
        });

        return new Command("bench", "Measure the running cluster") { checks };
    }

    /// <summary>A throw-away tenant with a fresh root and one grant per agent.</summary>
    private static async Task<IAgentGrain[]?> PrepareAsync(ClusterConnection connection, SigningKey operatorKey, int agents, CliOutput output)
    {
        using var root = SigningKey.Generate();
        var tenant = $"bench-{Guid.NewGuid():N}"[..18];
        var now = DocumentTime.WholeSeconds(TimeProvider.System.GetUtcNow());
        var created = await connection.Client.CreateTenantAsync(new DocumentSigner(DocumentTypes.Tenant)
            .Add("tenantId", tenant)
            .Add("rootDids", DocumentSigner.StringArray([root.Did.Value]))
            .Add("issuedAt", now)
            .Sign(operatorKey));
        if (!created.Created)
        {
            output.Progress($"tenant: {created.Error}: {created.Message}");
            return null;
        }

        output.Progress($"applying {agents} grants in tenant {tenant}...");
        var capabilities = new JObject(
        [
            new("fileSystem", new JString("write")), new("network", new JString("none")), new("memory", new JString("none")),
            new("subprocess", JBool.False), new("vectorDb", JBool.False), new("llm", JBool.True),
        ]);
        var scopes = new JObject([new("fileSystem", DocumentSigner.StringArray(["/workspace/**"]))]);
        var results = await Task.WhenAll(Enumerable.Range(0, agents).Select(i => connection.Client.ApplyGrantAsync(
            new DocumentSigner(DocumentTypes.Grant)
                .Add("grantId", $"bench-{i}")
                .Add("tenantId", tenant)
                .Add("agentId", $"a{i}")
                .Add("capabilities", capabilities)
                .Add("scopes", scopes)
                .Add("environmentIsolation", "external")
                .Add("issuedAt", now)
                .Add("expiresAt", now.AddHours(1))
                .Sign(root))));
        if (results.FirstOrDefault(r => !r.Applied) is { } failed)
        {
            output.Progress($"grant: {failed.Error}: {failed.Message}");
            return null;
        }

        return Enumerable.Range(0, agents).Select(i => connection.Client.Agent(tenant, $"a{i}")).ToArray();
    }
}

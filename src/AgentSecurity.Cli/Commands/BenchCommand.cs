using System.CommandLine;
using AgentSecurity.Abstractions;
using AgentSecurity.Cli.Bench;
using AgentSecurity.Grants;
using AgentSecurity.Grants.Capabilities;
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
    private const int Rounds = 15;

    public static Command Create(CliApp app)
    {
        var agents = new Option<int>("--agents") { Description = "Agents (grains) to spread the load over (default 64)", DefaultValueFactory = _ => 64 };
        var concurrency = new Option<int>("--concurrency") { Description = "Calls in flight (default 256)", DefaultValueFactory = _ => 256 };
        var seconds = new Option<int>("--seconds") { Description = "Measured seconds, split over the three kinds of call (default 30)", DefaultValueFactory = _ => 30 };
        var operatorKey = new Option<string>("--operator-key")
        {
            Description = "The operator's key file, to create a throw-away tenant (default: $AGENTSEC_OPERATOR_KEY, else operator.key in $AGENTSEC_STATE_DIR or .agentsec)",
            DefaultValueFactory = _ => Environment.GetEnvironmentVariable("AGENTSEC_OPERATOR_KEY") is { Length: > 0 } k ? k : Path.Combine(DevelopmentFiles.Directory, Caller.OperatorKeyFile),
        };
        var checks = new Command("checks", "Checks per second against a trivial grain call, in the same run (with AGENTSEC_BENCH_SILO_PID, a local silo's CPU per call too)") { agents, concurrency, seconds, operatorKey };
        checks.SetAction(async (result, cancellation) =>
        {
            var output = app.OutputFor(result);
            var (n, c, s) = (result.GetValue(agents), result.GetValue(concurrency), result.GetValue(seconds));
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
                var grains = await PrepareAsync(client, key.Value, n, limits: false, output);
                var limitedGrains = grains is null ? null : await PrepareAsync(client, key.Value, n, limits: true, output);
                if (grains is null || limitedGrains is null)
                {
                    return output.Error(ReasonCodes.Unavailable, "could not create the benchmark tenant and grants");
                }

                // A typical mix, the same for both kinds of agent: every meterable kind of check, with amounts where metered.
                CheckRequest[] mix =
                [
                    new("fileSystem:read", "/workspace/in.txt"),
                    new("fileSystem:write", "/workspace/out.txt", 4096),
                    new("network:outbound", "api.example.com:443"),
                    new("llm", null, 100),
                    new("memory:write", "notes/today", 256),
                ];
                async ValueTask<bool> Check(int i) => (await grains[i % grains.Length].CheckAsync(mix[(i / grains.Length) % mix.Length])).Allowed;
                async ValueTask<bool> LimitedCheck(int i) => (await limitedGrains[i % limitedGrains.Length].CheckAsync(mix[(i / limitedGrains.Length) % mix.Length])).Allowed;
                async ValueTask<bool> Ping(int i)
                {
                    await grains[i % grains.Length].PingAsync();
                    return true;
                }

                output.Progress($"warming up ({c} in flight over {n} agents)...");
                await LoadPhase.RunAsync(c, TimeSpan.FromSeconds(3), Ping, cancellation);
                await LoadPhase.RunAsync(c, TimeSpan.FromSeconds(3), Check, cancellation);
                await LoadPhase.RunAsync(c, TimeSpan.FromSeconds(3), LimitedCheck, cancellation);

                var phase = TimeSpan.FromSeconds(s / (3.0 * Rounds));
                using var cpu = ProcessCpu.FromEnvironment();
                var baseline = new List<LoadPhase.Outcome>();
                var measured = new List<LoadPhase.Outcome>();
                var limited = new List<LoadPhase.Outcome>();
                for (var round = 1; round <= Rounds; round++)
                {
                    // Every other round in reverse order, so that no kind of call always follows the same other kind.
                    var kinds = new (List<LoadPhase.Outcome> Into, Func<int, ValueTask<bool>> Call)[] { (baseline, Ping), (measured, Check), (limited, LimitedCheck) };
                    foreach (var (into, call) in round % 2 == 1 ? kinds : kinds.Reverse())
                    {
                        into.Add(await LoadPhase.RunAsync(c, phase, call, cancellation, cpu));
                    }

                    output.Progress($"round {round}: checks {measured[^1].CallsPerSecond:F0}/s, with every limit {limited[^1].CallsPerSecond:F0}/s, trivial calls {baseline[^1].CallsPerSecond:F0}/s");
                }

                var checkRate = LoadPhase.Median(measured.Select(o => o.CallsPerSecond));
                var limitedRate = LoadPhase.Median(limited.Select(o => o.CallsPerSecond));
                var baseRate = LoadPhase.Median(baseline.Select(o => o.CallsPerSecond));
                // Ratios per round, then their median: neighbouring phases see the same machine, a noisy round spoils one ratio.
                var ratio = LoadPhase.Median(measured.Zip(baseline, (m, b) => m.CallsPerSecond / b.CallsPerSecond));
                var limitsRatio = LoadPhase.Median(limited.Zip(measured, (l, m) => l.CallsPerSecond / m.CallsPerSecond));
                var checkTicks = measured.SelectMany(o => o.LatencyTicks).ToArray();
                var baseTicks = baseline.SelectMany(o => o.LatencyTicks).ToArray();
                var report = new
                {
                    checksPerSecond = Math.Round(checkRate),
                    baselineCallsPerSecond = Math.Round(baseRate),
                    ratio = Math.Round(ratio, 3),
                    p50Ms = Math.Round(LoadPhase.PercentileMillis(checkTicks, 50), 3),
                    p99Ms = Math.Round(LoadPhase.PercentileMillis(checkTicks, 99), 3),
                    baselineP50Ms = Math.Round(LoadPhase.PercentileMillis(baseTicks, 50), 3),
                    baselineP99Ms = Math.Round(LoadPhase.PercentileMillis(baseTicks, 99), 3),
                    // CPU per call of each side, from the same phases: what a shared machine turns into throughput.
                    clientCpuMicrosPerCheck = LoadPhase.CpuMicrosPerCall(measured, side => side.Client),
                    clientCpuMicrosPerBaselineCall = LoadPhase.CpuMicrosPerCall(baseline, side => side.Client),
                    clientCpuMicrosPerLimitedCheck = LoadPhase.CpuMicrosPerCall(limited, side => side.Client),
                    siloCpuMicrosPerCheck = cpu.HasSilo ? LoadPhase.CpuMicrosPerCall(measured, side => side.Silo) : null,
                    siloCpuMicrosPerBaselineCall = cpu.HasSilo ? LoadPhase.CpuMicrosPerCall(baseline, side => side.Silo) : null,
                    siloCpuMicrosPerLimitedCheck = cpu.HasSilo ? LoadPhase.CpuMicrosPerCall(limited, side => side.Silo) : null,
                    limitedChecksPerSecond = Math.Round(limitedRate),
                    limitsRatio = Math.Round(limitsRatio, 3),
                    checks = measured.Sum(o => o.Calls) + limited.Sum(o => o.Calls),
                    denied = measured.Sum(o => o.Failures) + limited.Sum(o => o.Failures),
                    agents = n,
                    concurrency = c,
                    seconds = s,
                    rounds = Rounds,
                };
                return output.Answer(report.denied == 0 ? ExitCodes.Ok : ExitCodes.No, report,
                    $"checks: {report.checksPerSecond:F0}/s (p50 {report.p50Ms} ms, p99 {report.p99Ms} ms)\n" +
                    $"checks with every limit metered: {report.limitedChecksPerSecond:F0}/s (ratio {report.limitsRatio})\n" +
                    $"trivial grain call: {report.baselineCallsPerSecond:F0}/s (p50 {report.baselineP50Ms} ms, p99 {report.baselineP99Ms} ms)\n" +
                    $"ratio {report.ratio} (ratios are medians of {Rounds} alternating rounds; {n} agents, {c} in flight, {report.denied} unexpected denials)\n" +
                    $"CPU per call, client: check {report.clientCpuMicrosPerCheck} µs, trivial call {report.clientCpuMicrosPerBaselineCall} µs" +
                    (cpu.HasSilo ? $"; silo: check {report.siloCpuMicrosPerCheck} µs, trivial call {report.siloCpuMicrosPerBaselineCall} µs" : " (AGENTSEC_BENCH_SILO_PID=<a local silo's pid> adds the silo's)"));
            }, cancellation);
        });

        return new Command("bench", "Measure the running cluster") { checks, Revocations(app, operatorKey), BenchAuditCommand.Create(app, operatorKey), BenchToolsCommand.Create(app, operatorKey), BenchDenialsCommand.Create(app, operatorKey) };
    }

    /// <summary>
    /// <c>bench revocations</c>: how long a revocation takes from call to return, with its delegations, and whether
    /// any check after the return is still allowed; a trivial issuer call in the same run is the baseline.
    /// </summary>
    private static Command Revocations(CliApp app, Option<string> operatorKey)
    {
        var count = new Option<int>("--count") { Description = "Grants to revoke, one after another (default 200)", DefaultValueFactory = _ => 200 };
        var children = new Option<int>("--children") { Description = "Delegated grants under each revoked grant (default 2)", DefaultValueFactory = _ => 2 };
        var command = new Command("revocations", "Revocation latency (call to return) and checks allowed after it returns") { count, children, operatorKey };
        command.SetAction(async (result, cancellation) =>
        {
            var output = app.OutputFor(result);
            var (n, k) = (result.GetValue(count), result.GetValue(children));
            if (n is < 1 or > 10_000 || k is < 0 or > 16)
            {
                return output.Usage("--count 1..10000, --children 0..16");
            }

            if (CommandSupport.ReadKey(output, result.GetRequiredValue(operatorKey), out var bad) is not { } operatorSigner)
            {
                return bad;
            }

            return await CommandSupport.WithClusterAsync(result, output, async client =>
            {
                using var root = SigningKey.Generate();
                var tenant = $"bench-{Guid.NewGuid():N}"[..18];
                var now = CliTime.Now;
                var created = await client.CreateTenantAsync(new DocumentSigner(DocumentTypes.Tenant).Add("tenantId", tenant)
                    .Add("rootDids", DocumentSigner.StringArray([root.Did.Value])).Add("issuedAt", now).Sign(operatorSigner));
                if (!created.Created)
                {
                    return output.Error(created.Error!, created.Message!);
                }

                output.Progress($"applying {n} grants with {k} delegations each in tenant {tenant}...");
                var capabilities = new JObject(
                [
                    new("fileSystem", new JString("read")), new("network", new JString("none")), new("memory", new JString("none")),
                    new("subprocess", JBool.False), new("vectorDb", JBool.False), new("llm", JBool.True),
                ]);
                string Grant(string id, string agent, SigningKey signer, string? agentDid, string? parent) => new DocumentSigner(DocumentTypes.Grant)
                    .Add("grantId", id).Add("tenantId", tenant).Add("agentId", agent).Add("capabilities", capabilities)
                    .Add("environmentIsolation", "external").Add("issuedAt", now).Add("expiresAt", now.AddHours(1))
                    .AddIfPresent("agentDid", agentDid).AddIfPresent("parentGrantId", parent).Sign(signer);
                for (var i = 0; i < n; i++)
                {
                    using var lead = SigningKey.Generate();
                    var applied = await client.ApplyGrantAsync(Grant($"p{i}", $"p{i}", root, lead.Did.Value, null));
                    for (var c = 0; c < k && applied.Applied; c++)
                    {
                        applied = await client.ApplyGrantAsync(Grant($"p{i}-c{c}", $"p{i}-c{c}", lead, null, $"p{i}"));
                    }

                    if (!applied.Applied)
                    {
                        return output.Error(applied.Error!, applied.Message!);
                    }
                }

                var request = new CheckRequest("llm");
                var latencies = new List<double>(n);
                var baseline = new List<double>(n);
                long checksAfter = 0, allowedAfter = 0, notPropagated = 0;
                for (var i = 0; i < n; i++)
                {
                    var started = System.Diagnostics.Stopwatch.GetTimestamp();
                    await client.GetTenantAsync(tenant);
                    baseline.Add(System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalMilliseconds);

                    var revocation = new DocumentSigner(DocumentTypes.Revocation).Add("tenantId", tenant).Add("grantId", $"p{i}")
                        .Add("reason", "benchmark").Add("issuedAt", now).Sign(root);
                    started = System.Diagnostics.Stopwatch.GetTimestamp();
                    var revoked = await client.RevokeAsync(revocation);
                    latencies.Add(System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalMilliseconds);
                    if (!revoked.Revoked)
                    {
                        return output.Error(revoked.Error!, revoked.Message!);
                    }

                    notPropagated += revoked.Propagated ? 0 : 1;
                    var decisions = await Task.WhenAll(Enumerable.Range(-1, k + 1).Select(c => client.CheckAsync(tenant, c < 0 ? $"p{i}" : $"p{i}-c{c}", request)));
                    checksAfter += decisions.Length;
                    allowedAfter += decisions.Count(d => d.Allowed);
                }

                double Percentile(List<double> values, double p) => values.Order().ElementAt((int)Math.Clamp(Math.Ceiling(p / 100 * values.Count) - 1, 0, values.Count - 1));
                var report = new
                {
                    revocations = n,
                    grantsPerRevocation = k + 1,
                    p50Ms = Math.Round(Percentile(latencies, 50), 3),
                    p99Ms = Math.Round(Percentile(latencies, 99), 3),
                    baselineP50Ms = Math.Round(Percentile(baseline, 50), 3),
                    baselineP99Ms = Math.Round(Percentile(baseline, 99), 3),
                    checksAfterRevocation = checksAfter,
                    allowedAfterRevocation = allowedAfter,
                    notPropagated,
                };
                return output.Answer(allowedAfter == 0 && notPropagated == 0 ? ExitCodes.Ok : ExitCodes.No, report,
                    $"revocation (call to return, {k + 1} grants each): p50 {report.p50Ms} ms, p99 {report.p99Ms} ms over {n}\n" +
                    $"trivial issuer call: p50 {report.baselineP50Ms} ms, p99 {report.baselineP99Ms} ms\n" +
                    $"checks after the revocation returned: {checksAfter}, allowed: {allowedAfter}");
            }, cancellation);
        });
        return command;
    }

    /// <summary>
    /// A throw-away tenant with a fresh root and one grant per agent. With <paramref name="limits"/>, every limit a check
    /// meters is set on each agent, and the tenant shares limits on network requests and LLM tokens: high enough never
    /// to deny in a run, low enough that agents reserve chunks in storage and lease from the tenant while it runs
    /// (a chunk is a tenth of a limit: a reservation about every half second per agent for checksPerSecond at the
    /// benchmark's rate, every few seconds for the others).
    /// </summary>
    internal static async Task<IAgentGrain[]?> PrepareAsync(Client.AgentSecurityClient client, SigningKey operatorKey, int agents, bool limits, CliOutput output)
    {
        using var root = SigningKey.Generate();
        var tenant = $"bench-{Guid.NewGuid():N}"[..18];
        var now = DocumentTime.WholeSeconds(TimeProvider.System.GetUtcNow());
        var created = await client.CreateTenantAsync(new DocumentSigner(DocumentTypes.Tenant)
            .Add("tenantId", tenant)
            .Add("rootDids", DocumentSigner.StringArray([root.Did.Value]))
            .Add("issuedAt", now)
            .Sign(operatorKey));
        if (!created.Created)
        {
            output.Progress($"tenant: {created.Error}: {created.Message}");
            return null;
        }

        static JObject Numbers(params (string Name, long Value)[] values) =>
            new(values.Select(v => new KeyValuePair<string, JNode>(v.Name, DocumentSigner.Number(v.Value))).ToList());
        if (limits)
        {
            var shared = await client.Issuer(tenant).SetTenantLimitsAsync(new DocumentSigner(DocumentTypes.Limits)
                .Add("tenantId", tenant)
                .Add("resourceLimits", Numbers(("networkRequestsPerMinute", 100_000_000), ("llmTokensPerHour", 10_000_000_000)))
                .Add("issuedAt", now)
                .Sign(root));
            if (shared.Error is not null)
            {
                output.Progress($"tenant limits: {shared.Error}: {shared.Message}");
                return null;
            }
        }

        output.Progress($"applying {agents} grants in tenant {tenant}{(limits ? " with every limit" : string.Empty)}...");
        var capabilities = new JObject(
        [
            new("fileSystem", new JString("write")), new("network", new JString("outbound")), new("memory", new JString("write")),
            new("subprocess", JBool.False), new("vectorDb", JBool.False), new("llm", JBool.True),
        ]);
        var scopes = new JObject(
        [
            new("fileSystem", DocumentSigner.StringArray(["/workspace/**"])),
            new("network", DocumentSigner.StringArray(["api.example.com:443"])),
            new("memory", DocumentSigner.StringArray(["notes/**"])),
        ]);
        var own = Numbers(("checksPerSecond", 10_000), ("networkRequestsPerMinute", 100_000), ("llmTokensPerHour", 10_000_000),
            ("fileBytesWrittenPerHour", 200_000_000), ("memoryBytesStored", 1_000_000_000));
        var results = await Task.WhenAll(Enumerable.Range(0, agents).Select(i => client.ApplyGrantAsync(
            new DocumentSigner(DocumentTypes.Grant)
                .Add("grantId", $"bench-{i}")
                .Add("tenantId", tenant)
                .Add("agentId", $"a{i}")
                .Add("capabilities", capabilities)
                .Add("scopes", scopes)
                .AddIfPresent("resourceLimits", limits ? own : null)
                .Add("environmentIsolation", "external")
                .Add("issuedAt", now)
                .Add("expiresAt", now.AddHours(1))
                .Sign(root))));
        if (results.FirstOrDefault(r => !r.Applied) is { } failed)
        {
            output.Progress($"grant: {failed.Error}: {failed.Message}");
            return null;
        }

        return Enumerable.Range(0, agents).Select(i => client.Agent(tenant, $"a{i}")).ToArray();
    }
}

using System.CommandLine;
using System.Diagnostics;
using AgentSecurity.Abstractions;
using AgentSecurity.Abstractions.Tools;
using AgentSecurity.Cli.Bench;
using AgentSecurity.Grants;
using AgentSecurity.Grants.Crypto;
using AgentSecurity.Grants.Documents;
using AgentSecurity.Grants.Json;

namespace AgentSecurity.Cli.Commands;

/// <summary>
/// <c>bench tools</c>: what a gateway's check of one tool call costs (<see cref="IAgentGrain.CheckToolCallAsync"/> with
/// the tool and a file its arguments name, allowed), one call at a time as a gateway makes them, next to a trivial call
/// (<see cref="IAgentGrain.PingAsync"/>) on the same grain, in alternating rounds of the same run.
/// </summary>
internal static class BenchToolsCommand
{
    private const int Rounds = 10;

    public static Command Create(CliApp app, Option<string> operatorKey)
    {
        var calls = new Option<int>("--calls") { Description = "Calls per round and kind (default 500)", DefaultValueFactory = _ => 500 };
        var command = new Command("tools", "Latency of a gateway's tool-call check against a trivial grain call, in the same run") { calls, operatorKey };
        command.SetAction(async (result, cancellation) =>
        {
            var output = app.OutputFor(result);
            var n = result.GetValue(calls);
            if (n is < 10 or > 100_000)
            {
                return output.Usage("--calls 10..100000");
            }

            var key = KeyFiles.Read(result.GetRequiredValue(operatorKey));
            if (!key.Succeeded)
            {
                return output.Error(key.Failure.Code, key.Failure.Message, ExitCodes.Usage);
            }

            return await CommandSupport.WithClusterAsync(result, output, async client =>
            {
                if (await PrepareAsync(client, key.Value, output) is not { } agent)
                {
                    return output.Error(ReasonCodes.Unavailable, "could not create the benchmark tenant and grant");
                }

                var call = new ToolCall
                {
                    Tool = "fs/read_text_file",
                    DefinitionHash = "sha256:1d8b2b6ca5e1073726f4f41ba61ac8c888d2867157d6cf12547c55051c7f482a",
                    Resources = [CheckRequests.ReadFile("/workspace/notes/today.md")],
                };
                var first = (await agent.CheckToolCallAsync(call)).Decision;
                if (!first.Allowed)
                {
                    return output.Error(first.Reason, $"the benchmark's tool call was not allowed: {first.Message}");
                }

                var checks = new List<long>(Rounds * n);
                var pings = new List<long>(Rounds * n);
                for (var round = 0; round < Rounds; round++)
                {
                    output.Progress($"round {round + 1}/{Rounds}");
                    for (var i = 0; i < n; i++)
                    {
                        var started = Stopwatch.GetTimestamp();
                        await agent.PingAsync();
                        pings.Add(Stopwatch.GetTimestamp() - started);
                        started = Stopwatch.GetTimestamp();
                        var decision = await agent.CheckToolCallAsync(call);
                        checks.Add(Stopwatch.GetTimestamp() - started);
                        if (!decision.Allowed)
                        {
                            return output.Error(decision.Decision.Reason, decision.Decision.Message);
                        }
                    }
                }

                double P(List<long> ticks, double p) => LoadPhase.PercentileMillis([.. ticks], p);
                var (check50, check99, ping50, ping99) = (P(checks, 50), P(checks, 99), P(pings, 50), P(pings, 99));
                return output.Answer(ExitCodes.Ok,
                    new { calls = checks.Count, checkP50Ms = check50, checkP99Ms = check99, pingP50Ms = ping50, pingP99Ms = ping99, addedP50Ms = check50 - ping50 },
                    $"tool-call check: p50 {check50:0.000} ms, p99 {check99:0.000} ms; trivial call on the same grain: p50 {ping50:0.000} ms, p99 {ping99:0.000} ms; " +
                    $"the check adds {check50 - ping50:0.000} ms at the median ({checks.Count} of each, one at a time)");
            }, cancellation);
        });
        return command;
    }

    /// <summary>A throw-away tenant and one agent whose grant v2 gives the filesystem server's read tools under /workspace.</summary>
    private static async Task<IAgentGrain?> PrepareAsync(Client.AgentSecurityClient client, SigningKey operatorKey, CliOutput output)
    {
        using var root = SigningKey.Generate();
        var tenant = $"bench-{Guid.NewGuid():N}"[..18];
        var now = DocumentTime.WholeSeconds(TimeProvider.System.GetUtcNow());
        var created = await client.CreateTenantAsync(new DocumentSigner(DocumentTypes.Tenant)
            .Add("tenantId", tenant).Add("rootDids", DocumentSigner.StringArray([root.Did.Value])).Add("issuedAt", now).Sign(operatorKey));
        if (!created.Created)
        {
            output.Progress($"tenant: {created.Error}: {created.Message}");
            return null;
        }

        var applied = await client.ApplyGrantAsync(new DocumentSigner(DocumentTypes.GrantV2)
            .Add("grantId", "bench-tools").Add("tenantId", tenant).Add("agentId", "a")
            .Add("capabilities", new JObject(
            [
                new("fileSystem", new JString("read")), new("network", new JString("none")), new("memory", new JString("none")),
                new("subprocess", JBool.False), new("vectorDb", JBool.False), new("llm", JBool.False),
                new("tools", DocumentSigner.StringArray(["fs/read_*", "fs/list_*"])),
            ]))
            .Add("scopes", new JObject([new("fileSystem", DocumentSigner.StringArray(["/workspace/**"]))]))
            .Add("toolRules", new JObject([new("pins", new JObject([new("fs/read_text_file", new JString("sha256:1d8b2b6ca5e1073726f4f41ba61ac8c888d2867157d6cf12547c55051c7f482a"))]))]))
            .Add("environmentIsolation", "external").Add("issuedAt", now).Add("expiresAt", now.AddHours(1))
            .Sign(root));
        if (!applied.Applied)
        {
            output.Progress($"grant: {applied.Error}: {applied.Message}");
            return null;
        }

        return client.Agent(tenant, "a");
    }
}

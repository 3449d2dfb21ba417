using System.CommandLine;
using AgentSecurity.Grants.Capabilities;
using AgentSecurity.Grants.Documents;
using AgentSecurity.Grants.Json;

namespace AgentSecurity.Cli.Commands;

internal static class LimitsCommand
{
    public static Command Create(CliApp app)
    {
        var key = CommandSupport.KeyOption("Key file of the operator or a root of the tenant");
        var tenant = new Option<string>("--tenant") { Description = "Tenant id", Required = true };
        var limits = new Option<string[]>("--limit") { Description = "NAME=N, shared by all agents of the tenant (repeatable; checksPerSecond, networkRequestsPerMinute, llmTokensPerHour, fileBytesWrittenPerHour)" };
        var maxAgents = new Option<long?>("--max-agents") { Description = $"How many agents may hold grants (default {LimitsDocument.DefaultMaxAgents})" };
        var set = new Command("set", "Set a tenant's shared limits (replaces the previous ones)") { key, tenant, limits, maxAgents };
        set.SetAction(async (result, cancellation) =>
        {
            var output = app.OutputFor(result);
            if (CommandSupport.ReadKey(output, result.GetRequiredValue(key), out var bad) is not { } signer)
            {
                return bad;
            }

            var members = new List<KeyValuePair<string, JNode>>();
            foreach (var pair in result.GetValue(limits) ?? [])
            {
                var parts = pair.Split('=', 2);
                if (parts.Length != 2 || !ResourceLimits.Names.Contains(parts[0]) || !long.TryParse(parts[1], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var n))
                {
                    return output.Usage($"--limit \"{pair}\" is not NAME=N");
                }

                members.Add(new(parts[0], DocumentSigner.Number(n)));
            }

            var text = new DocumentSigner(DocumentTypes.Limits)
                .Add("tenantId", result.GetRequiredValue(tenant))
                .Add("resourceLimits", new JObject(members))
                .AddIfPresent("maxAgents", result.GetValue(maxAgents) is { } max ? DocumentSigner.Number(max) : null)
                .Add("issuedAt", CliTime.Now)
                .Sign(signer);
            if (LimitsDocument.Parse(text).Failure is { } invalid)
            {
                return output.Error(invalid.Code, invalid.Message, ExitCodes.Usage);
            }

            return await CommandSupport.WithClusterAsync(result, output, async client =>
            {
                var applied = await client.Issuer(result.GetRequiredValue(tenant)).SetTenantLimitsAsync(text);
                return applied.Accepted
                    ? output.Answer(ExitCodes.Ok, new { tenantId = result.GetValue(tenant), limits = members.ToDictionary(m => m.Key, m => ((JNumber)m.Value).Text), maxAgents = result.GetValue(maxAgents) },
                        $"tenant {result.GetValue(tenant)}: shared limits set")
                    : output.Error(applied.Error!, applied.Message!);
            }, cancellation);
        });

        return new Command("limits", "Limits shared by all agents of a tenant") { set };
    }
}

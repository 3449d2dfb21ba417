using System.CommandLine;
using AgentSecurity.Grants;
using AgentSecurity.Grants.Capabilities;
using AgentSecurity.Grants.Documents;
using AgentSecurity.Grants.Json;

namespace AgentSecurity.Cli.Commands;

internal static class AdminCommands
{
    public static Command Create(CliApp app)
    {
        var key = CommandSupport.KeyOption("Key file of a root of the tenant");
        var tenant = new Option<string>("--tenant") { Description = "Tenant id", Required = true };
        var admin = new Option<string>("--admin") { Description = "The admin's DID", Required = true };
        var ceiling = new Option<string>("--ceiling")
        {
            Description = "What the admin may grant at most, e.g. fileSystem=read,network=outbound,memory=none,llm (unnamed: none/false)",
            Required = true,
        };
        var limits = new Option<string[]>("--limit") { Description = $"NAME=N: a limit every grant of the admin must set, at most N (repeatable; {string.Join(", ", ResourceLimits.Names)})" };
        var expiresIn = new Option<string>("--expires-in") { Description = "How long the admin may sign (default 30d)", DefaultValueFactory = _ => "30d" };
        var tools = new Option<string[]>("--tool") { Description = "A tool pattern server/tool the admin's grants may give (repeatable; makes an agentsec.admin.v2)" };
        var add = new Command("add", "Register an admin who may sign grants within a ceiling until it expires") { key, tenant, admin, ceiling, limits, expiresIn, tools };
        add.SetAction(async (result, cancellation) =>
        {
            var output = app.OutputFor(result);
            if (CommandSupport.ReadKey(output, result.GetRequiredValue(key), out var bad) is not { } signer)
            {
                return bad;
            }

            if (!CapabilitySpec.TryParse(result.GetRequiredValue(ceiling), out var capabilities, out var problem))
            {
                return output.Usage($"--ceiling: {problem}");
            }

            if (!Durations.TryParse(result.GetValue(expiresIn), out var lifetime))
            {
                return output.Usage("--expires-in takes a duration such as 12h or 30d");
            }

            var limitMembers = new List<KeyValuePair<string, JNode>>();
            foreach (var pair in result.GetValue(limits) ?? [])
            {
                var parts = pair.Split('=', 2);
                if (parts.Length != 2 || !ResourceLimits.Names.Contains(parts[0]) || !long.TryParse(parts[1], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var n))
                {
                    return output.Usage($"--limit \"{pair}\" is not NAME=N");
                }

                limitMembers.Add(new(parts[0], DocumentSigner.Number(n)));
            }

            var now = CliTime.Now;
            var toolPatterns = result.GetValue(tools) ?? [];
            if (toolPatterns.Length > 0)
            {
                capabilities = new JObject([.. capabilities.Members, new("tools", DocumentSigner.StringArray(toolPatterns))]);
            }

            var ceilingObject = new JObject(limitMembers.Count == 0
                ? [new("capabilities", capabilities)]
                : [new("capabilities", capabilities), new("resourceLimits", new JObject(limitMembers))]);
            var text = new DocumentSigner(toolPatterns.Length > 0 ? DocumentTypes.AdminV2 : DocumentTypes.Admin)
                .Add("tenantId", result.GetRequiredValue(tenant))
                .Add("adminDid", result.GetRequiredValue(admin))
                .Add("ceiling", ceilingObject)
                .Add("issuedAt", now)
                .Add("expiresAt", now + lifetime)
                .Sign(signer);
            if (AdminDocument.Parse(text).Failure is { } invalid)
            {
                return output.Error(invalid.Code, invalid.Message, ExitCodes.Usage);
            }

            return await CommandSupport.WithClusterAsync(result, output, async client =>
            {
                var registered = await client.RegisterAdminAsync(text);
                return registered.Accepted
                    ? output.Answer(ExitCodes.Ok, new { adminDid = result.GetValue(admin), expiresAt = DocumentTime.ToText(now + lifetime) },
                        $"admin {result.GetValue(admin)} registered for {result.GetValue(tenant)} until {DocumentTime.ToText(now + lifetime)}")
                    : output.Error(registered.Error ?? ReasonCodes.Unavailable, registered.Message ?? string.Empty);
            }, cancellation);
        });

        return new Command("admin", "Tenant admins") { add };
    }
}

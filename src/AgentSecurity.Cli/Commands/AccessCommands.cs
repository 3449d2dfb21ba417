using System.CommandLine;
using AgentSecurity.Grants;
using AgentSecurity.Grants.Access;
using AgentSecurity.Grants.Documents;

namespace AgentSecurity.Cli.Commands;

/// <summary><c>access grant</c> signs an <c>agentsec.access.v1</c> document; <c>access apply</c> sends one to the cluster.</summary>
internal static class AccessCommands
{
    public static Command Create(CliApp app) => new("access", "Who may call the cluster: sign and apply agentsec.access.v1 documents")
    {
        Grant(app),
        Apply(app),
    };

    private static Command Grant(CliApp app)
    {
        var key = CommandSupport.KeyOption("Key file of a root or admin of the tenant (the operator for --all-tenants)");
        var tenant = new Option<string?>("--tenant") { Description = "Tenant id" };
        var allTenants = new Option<bool>("--all-tenants") { Description = "Every tenant (only the operator may sign it)" };
        var principal = new Option<string>("--principal") { Description = "The DID whose sessions the document covers", Required = true };
        var allow = new Option<string>("--allow") { Description = $"Rights, comma-separated: {string.Join(", ", AccessRightNames.All)}", Required = true };
        var agents = new Option<string[]>("--agents") { Description = "Agent id pattern the rights cover (* any characters; repeatable; default every agent)" };
        var expiresIn = new Option<string>("--expires-in") { Description = "How long the document lasts (default 30d)", DefaultValueFactory = _ => "30d" };
        var accessId = new Option<string?>("--access-id") { Description = "Access id (default: a random one); a revocation naming it ends the access" };
        var outFile = new Option<string?>("--out") { Description = "Also write the signed document to this file" };
        var command = new Command("grant", "Sign an access document: the rights a principal has when it calls for a tenant")
        {
            key, tenant, allTenants, principal, allow, agents, expiresIn, accessId, outFile,
        };
        command.SetAction(result =>
        {
            var output = app.OutputFor(result);
            var forAll = result.GetValue(allTenants);
            var named = result.GetValue(tenant);
            if (named is not null == forAll)
            {
                return output.Usage("name exactly one of --tenant T and --all-tenants");
            }

            if (CommandSupport.ReadKey(output, result.GetRequiredValue(key), out var bad) is not { } signer)
            {
                return bad;
            }

            if (!Durations.TryParse(result.GetValue(expiresIn), out var lifetime))
            {
                return output.Usage("--expires-in takes a duration such as 12h or 30d");
            }

            var rights = result.GetRequiredValue(allow).Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
            var patterns = result.GetValue(agents) ?? [];
            var now = CliTime.Now;
            var text = new DocumentSigner(DocumentTypes.Access)
                .Add("accessId", result.GetValue(accessId) ?? $"acc-{Guid.NewGuid():N}"[..20])
                .Add("tenantId", forAll ? AccessDocument.AllTenants : named!)
                .Add("principalDid", result.GetRequiredValue(principal))
                .Add("allow", DocumentSigner.StringArray(rights))
                .AddIfPresent("agents", patterns.Length > 0 ? DocumentSigner.StringArray(patterns) : null)
                .Add("issuedAt", now)
                .Add("expiresAt", now + lifetime)
                .Sign(signer);

            // The same parser the cluster uses: refuse here what the cluster would refuse.
            var parsed = AccessDocument.Parse(text);
            if (!parsed.TryGetValue(out var access))
            {
                return output.Error(parsed.Failure.Code, parsed.Failure.Message, ExitCodes.Usage);
            }

            if (result.GetValue(outFile) is { } path)
            {
                File.WriteAllText(path, text + "\n");
            }

            return output.AnswerRaw(ExitCodes.Ok, text, result.GetValue(outFile) is { } written
                ? $"signed access {access.AccessId} for {access.PrincipalDid.Value} on {(forAll ? "every tenant" : access.TenantId)} ({string.Join(",", rights)}), until {DocumentTime.ToText(access.ExpiresAt)}; written to {written}"
                : text);
        });
        return command;
    }

    private static Command Apply(CliApp app)
    {
        var file = new Argument<string>("FILE") { Description = "The signed access document (- for standard input)" };
        var command = new Command("apply", "Apply an access document to the tenant it names (or to every tenant, for \"*\")") { file };
        command.SetAction(async (result, cancellation) =>
        {
            var output = app.OutputFor(result);
            var document = DocumentFiles.Read(result.GetRequiredValue(file));
            if (!document.TryGetValue(out var text, out var unreadable))
            {
                return output.Error(unreadable.Code, unreadable.Message);
            }

            var parsed = AccessDocument.Parse(text);
            if (!parsed.TryGetValue(out var access, out var invalid))
            {
                return output.Error(invalid.Code, invalid.Message);
            }

            return await CommandSupport.WithClusterAsync(result, output, async client =>
            {
                var applied = await client.ApplyAccessAsync(text);
                return applied.Accepted
                    ? output.Answer(ExitCodes.Ok, new { accessId = access.AccessId, principalDid = access.PrincipalDid.Value, tenantId = access.TenantId, unchanged = applied.Unchanged },
                        $"{access.PrincipalDid.Value} may now call {(access.ForAllTenants ? "every tenant" : access.TenantId)} ({AccessRightNames.Describe(access.Allow)}) until {DocumentTime.ToText(access.ExpiresAt)}")
                    : output.Error(applied.Error ?? ReasonCodes.Unavailable, applied.Message ?? string.Empty);
            }, cancellation);
        });
        return command;
    }
}

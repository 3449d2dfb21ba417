using System.CommandLine;
using AgentSecurity.Grants;
using AgentSecurity.Grants.Documents;
using AgentSecurity.Grants.Identity;

namespace AgentSecurity.Cli.Commands;

internal static class TenantCommands
{
    public static Command Create(CliApp app)
    {
        var tenant = new Argument<string>("TENANT") { Description = "Tenant id ([a-z0-9][a-z0-9-]{0,62})" };
        var roots = new Option<string[]>("--root") { Description = "A root DID of the tenant (repeatable, 1 to 8)", Required = true };
        var operatorKey = new Option<string?>("--operator-key")
        {
            Description = "The operator's key file (default: $AGENTSEC_OPERATOR_KEY)",
            DefaultValueFactory = _ => Environment.GetEnvironmentVariable("AGENTSEC_OPERATOR_KEY"),
        };
        var outFile = new Option<string?>("--out") { Description = "Also write the signed tenant document to this file" };
        var create = new Command("create", "Create a tenant with its root DIDs, signed by the platform operator") { tenant, roots, operatorKey, outFile };
        create.SetAction(async (result, cancellation) =>
        {
            var output = app.OutputFor(result);
            if (result.GetValue(operatorKey) is not { Length: > 0 } keyPath)
            {
                return output.Usage("--operator-key is required (or set AGENTSEC_OPERATOR_KEY)");
            }

            var key = KeyFiles.Read(keyPath);
            if (!key.Succeeded)
            {
                return output.Error(key.Failure.Code, key.Failure.Message, ExitCodes.Usage);
            }

            foreach (var root in result.GetValue(roots) ?? [])
            {
                if (DidKey.Parse(root).Failure is { } bad)
                {
                    return output.Error(bad.Code, $"--root {root}: {bad.Message}", ExitCodes.Usage);
                }
            }

            var text = new DocumentSigner(DocumentTypes.Tenant)
                .Add("tenantId", result.GetRequiredValue(tenant))
                .Add("rootDids", DocumentSigner.StringArray(result.GetRequiredValue(roots)))
                .Add("issuedAt", DocumentTime.WholeSeconds(TimeProvider.System.GetUtcNow()))
                .Sign(key.Value);
            if (TenantDocument.Parse(text).Failure is { } invalid)
            {
                return output.Error(invalid.Code, invalid.Message, ExitCodes.Usage);
            }

            if (result.GetValue(outFile) is { } path)
            {
                await File.WriteAllTextAsync(path, text + "\n", cancellation);
            }

            return await CommandSupport.WithClusterAsync(result, output, async client =>
            {
            var created = await client.CreateTenantAsync(text);
            if (!created.Created)
            {
                return output.Error(created.Error!, created.Message!);
            }

            return output.Answer(ExitCodes.Ok, new { tenantId = created.TenantId, unchanged = created.Unchanged },
                created.Unchanged ? $"tenant {created.TenantId} already exists with these roots" : $"created tenant {created.TenantId}");
            }, cancellation);
        });

        var showTenant = new Argument<string>("TENANT") { Description = "Tenant id" };
        var show = new Command("show", "A tenant's roots, admins and retired roots") { showTenant };
        show.SetAction(async (result, cancellation) =>
        {
            var output = app.OutputFor(result);
            return await CommandSupport.WithClusterAsync(result, output, async client =>
            {
                var info = await client.GetTenantAsync(result.GetRequiredValue(showTenant));
                if (info is null)
                {
                    return output.Error(ReasonCodes.UnknownTenant, $"tenant {result.GetValue(showTenant)} does not exist");
                }

                var admins = info.Admins.Select(a => new { adminDid = a.AdminDid, expiresAt = DocumentTime.ToText(a.ExpiresAt), registeredBy = a.SignedBy }).ToArray();
                return output.Answer(ExitCodes.Ok,
                    new { tenantId = info.TenantId, rootDids = info.RootDids, retiredRootDids = info.RetiredRootDids, admins },
                    $"tenant {info.TenantId}\n  roots: {string.Join(", ", info.RootDids)}" +
                    (info.RetiredRootDids.Count > 0 ? $"\n  retired roots: {string.Join(", ", info.RetiredRootDids)}" : string.Empty) +
                    string.Concat(admins.Select(a => $"\n  admin {a.adminDid} until {a.expiresAt}")));
            }, cancellation);
        });

        return new Command("tenant", "Tenants, their roots and admins") { create, show };
    }
}

using System.CommandLine;
using AgentSecurity.Grants;
using AgentSecurity.Grants.Documents;

namespace AgentSecurity.Cli.Commands;

internal static class RevokeCommand
{
    public static Command Create(CliApp app)
    {
        var key = CommandSupport.KeyOption("Key file of the grant's signer, a root or an admin");
        var tenant = new Option<string>("--tenant") { Description = "Tenant id", Required = true };
        var grant = new Option<string>("--grant") { Description = "The grant to revoke (with every grant delegated from it)", Required = true };
        var reason = new Option<string>("--reason") { Description = "Why (at most 256 characters)", DefaultValueFactory = _ => "revoked" };
        var command = new Command("revoke", "Revoke a grant and its delegations; every affected agent is told before this returns") { key, tenant, grant, reason };
        command.SetAction(async (result, cancellation) =>
        {
            var output = app.OutputFor(result);
            if (CommandSupport.ReadKey(output, result.GetRequiredValue(key), out var bad) is not { } signer)
            {
                return bad;
            }

            var text = new DocumentSigner(DocumentTypes.Revocation)
                .Add("tenantId", result.GetRequiredValue(tenant))
                .Add("grantId", result.GetRequiredValue(grant))
                .Add("reason", result.GetRequiredValue(reason))
                .Add("issuedAt", CliTime.Now)
                .Sign(signer);
            if (RevocationDocument.Parse(text).Failure is { } invalid)
            {
                return output.Error(invalid.Code, invalid.Message, ExitCodes.Usage);
            }

            return await CommandSupport.WithClusterAsync(result, output, async client =>
            {
                var revoked = await client.RevokeAsync(text);
                if (!revoked.Revoked)
                {
                    return output.Error(revoked.Error!, revoked.Message!);
                }

                var payload = new { revoked = result.GetValue(grant), grantIds = revoked.GrantIds, agents = revoked.Agents, propagated = revoked.Propagated, message = revoked.Message };
                return output.Answer(revoked.Propagated ? ExitCodes.Ok : ExitCodes.Unreachable, payload,
                    $"revoked {string.Join(", ", revoked.GrantIds)}; {revoked.Agents.Count} agent(s) told" + (revoked.Propagated ? string.Empty : $" (NOT ALL: {revoked.Message})"));
            }, cancellation);
        });
        return command;
    }
}

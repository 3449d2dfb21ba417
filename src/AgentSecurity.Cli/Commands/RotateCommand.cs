using System.CommandLine;
using AgentSecurity.Grants.Documents;

namespace AgentSecurity.Cli.Commands;

internal static class RotateCommand
{
    public static Command Create(CliApp app)
    {
        var key = CommandSupport.KeyOption("Key file of the root being replaced");
        var tenant = new Option<string>("--tenant") { Description = "Tenant id", Required = true };
        var newRoot = new Option<string>("--new-root") { Description = "DID of the new root", Required = true };
        var command = new Command("rotate", "Replace a tenant root: the new root works at once, the old one signs nothing new") { key, tenant, newRoot };
        command.SetAction(async (result, cancellation) =>
        {
            var output = app.OutputFor(result);
            if (CommandSupport.ReadKey(output, result.GetRequiredValue(key), out var bad) is not { } oldRoot)
            {
                return bad;
            }

            var text = new DocumentSigner(DocumentTypes.Rotation)
                .Add("tenantId", result.GetRequiredValue(tenant))
                .Add("oldRootDid", oldRoot.Did.Value)
                .Add("newRootDid", result.GetRequiredValue(newRoot))
                .Add("issuedAt", CliTime.Now)
                .Sign(oldRoot);
            if (RotationDocument.Parse(text).Failure is { } invalid)
            {
                return output.Error(invalid.Code, invalid.Message, ExitCodes.Usage);
            }

            return await CommandSupport.WithClusterAsync(result, output, async client =>
            {
                var rotated = await client.RotateRootAsync(text);
                return rotated.Accepted
                    ? output.Answer(ExitCodes.Ok, new { tenantId = result.GetValue(tenant), oldRootDid = oldRoot.Did.Value, newRootDid = result.GetValue(newRoot), unchanged = rotated.Unchanged },
                        $"tenant {result.GetValue(tenant)}: root {oldRoot.Did.Value} replaced by {result.GetValue(newRoot)}")
                    : output.Error(rotated.Error!, rotated.Message!);
            }, cancellation);
        });
        return command;
    }
}

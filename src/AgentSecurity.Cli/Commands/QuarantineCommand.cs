using System.CommandLine;
using AgentSecurity.Grants.Documents;

namespace AgentSecurity.Cli.Commands;

internal static class QuarantineCommand
{
    public static Command Create(CliApp app)
    {
        var key = CommandSupport.KeyOption("Key file of a root or admin of the tenant");
        var agent = AgentArgument.Create();
        var release = new Option<bool>("--release") { Description = "Lift the quarantine" };
        var reason = new Option<string>("--reason") { Description = "Why (at most 256 characters)", DefaultValueFactory = _ => "manual" };
        var command = new Command("quarantine", "Quarantine an agent (every check denied) or release it") { key, agent, release, reason };
        command.SetAction(async (result, cancellation) =>
        {
            var output = app.OutputFor(result);
            if (!AgentArgument.TryParse(result.GetValue(agent), out var tenantId, out var agentId))
            {
                return output.Usage($"\"{result.GetValue(agent)}\" is not TENANT/AGENT");
            }

            if (CommandSupport.ReadKey(output, result.GetRequiredValue(key), out var bad) is not { } signer)
            {
                return bad;
            }

            var text = new DocumentSigner(DocumentTypes.Quarantine)
                .Add("tenantId", tenantId)
                .Add("agentId", agentId)
                .Add("action", result.GetValue(release) ? "release" : "quarantine")
                .Add("reason", result.GetRequiredValue(reason))
                .Add("issuedAt", CliTime.Now)
                .Sign(signer);
            if (QuarantineDocument.Parse(text).Failure is { } invalid)
            {
                return output.Error(invalid.Code, invalid.Message, ExitCodes.Usage);
            }

            return await CommandSupport.WithClusterAsync(result, output, async client =>
            {
                var changed = await client.QuarantineAsync(text);
                var status = changed.State.ToString().ToLowerInvariant();
                return changed.Accepted
                    ? output.Answer(ExitCodes.Ok, new { agent = changed.Agent, status }, $"{changed.Agent} is {status}")
                    : output.Error(changed.Error!, changed.Message!);
            }, cancellation);
        });
        return command;
    }
}

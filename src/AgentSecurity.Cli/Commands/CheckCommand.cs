using System.CommandLine;
using AgentSecurity.Abstractions;
using AgentSecurity.Grants;

namespace AgentSecurity.Cli.Commands;

internal static class CheckCommand
{
    public static Command Create(CliApp app)
    {
        var agent = AgentArgument.Create();
        var capability = new Argument<string>("CAPABILITY") { Description = "fileSystem:read|write|delete, memory:read|write|delete, network:outbound|inbound, subprocess, vectorDb, llm" };
        var resource = new Option<string?>("--resource") { Description = "The path, host:port or memory key acted on" };
        var amount = new Option<long?>("--amount") { Description = "Bytes or tokens, for metered capabilities" };
        var command = new Command("check", "Ask whether an agent may do something (exit 0 allowed, 1 denied)") { agent, capability, resource, amount };
        command.SetAction(async (result, cancellation) =>
        {
            var output = app.OutputFor(result);
            if (!AgentArgument.TryParse(result.GetValue(agent), out var tenantId, out var agentId))
            {
                return output.Usage($"\"{result.GetValue(agent)}\" is not TENANT/AGENT");
            }

            var (connection, problem) = await ClusterConnection.ConnectAsync(result.GetValue(CliApp.GatewayOption), cancellation);
            if (connection is null)
            {
                return output.Error(problem!.Code, problem.Message);
            }

            await using (connection)
            {
                var decision = await connection.Client.CheckAsync(tenantId, agentId, new CheckRequest(result.GetValue(capability)!, result.GetValue(resource), result.GetValue(amount)));
                var exit = decision.Allowed ? ExitCodes.Ok : decision.Reason == ReasonCodes.Unavailable ? ExitCodes.Unreachable : ExitCodes.No;
                return output.Answer(exit,
                    new { allowed = decision.Allowed, reason = decision.Reason, message = decision.Message, grantId = decision.GrantId, remaining = decision.Remaining },
                    $"{(decision.Allowed ? "ALLOWED" : "DENIED")} {decision.Reason}: {decision.Message}" + (decision.GrantId is { } g ? $" (grant {g})" : string.Empty));
            }
        });
        return command;
    }
}

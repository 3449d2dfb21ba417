using System.CommandLine;
using AgentSecurity.Abstractions;
using AgentSecurity.Grants;

namespace AgentSecurity.Cli.Commands;

internal static class CheckCommand
{
    public static Command Create(CliApp app)
    {
        var agent = AgentArgument.Create();
        var capability = new Argument<string>("CAPABILITY") { Description = "fileSystem:read|write|delete, memory:read|write|delete, network:outbound|inbound, subprocess, vectorDb, llm, tool:call" };
        var resource = new Option<string?>("--resource") { Description = "The path, host:port, memory key or tool server/tool acted on" };
        var definitionHash = new Option<string?>("--definition-hash") { Description = "For tool:call: the hash of the tool's definition now (sha256:HEX), held against the grant's pin" };
        var amount = new Option<long?>("--amount") { Description = "Bytes or tokens, for metered capabilities" };
        var explain = new Option<bool>("--explain") { Description = "Also say which part of the grant decided and, for a denial, the smallest change that would allow it" };
        var command = new Command("check", "Ask whether an agent may do something (exit 0 allowed, 1 denied)") { agent, capability, resource, amount, explain, definitionHash };
        command.SetAction(async (result, cancellation) =>
        {
            var output = app.OutputFor(result);
            if (!AgentArgument.TryParse(result.GetValue(agent), out var tenantId, out var agentId))
            {
                return output.Usage($"\"{result.GetValue(agent)}\" is not TENANT/AGENT");
            }

            return await CommandSupport.WithClusterAsync(result, output, async client =>
            {
            var request = new CheckRequest(result.GetRequiredValue(capability), result.GetValue(resource), result.GetValue(amount)) { DefinitionHash = result.GetValue(definitionHash) };
            if (result.GetValue(explain))
            {
                return WriteExplanation(output, await client.ExplainAsync(tenantId, agentId, request));
            }

            var decision = await client.CheckAsync(tenantId, agentId, request);
            var exit = decision.Allowed ? ExitCodes.Ok : decision.Reason == ReasonCodes.Unavailable ? ExitCodes.Unreachable : ExitCodes.No;
            return output.Answer(exit,
                new { allowed = decision.Allowed, reason = decision.Reason, message = decision.Message, grantId = decision.GrantId, remaining = decision.Remaining },
                $"{(decision.Allowed ? "ALLOWED" : "DENIED")} {decision.Reason}: {decision.Message}" + (decision.GrantId is { } g ? $" (grant {g})" : string.Empty));
            }, cancellation);
        });
        return command;
    }

    /// <summary>A decision with what decided it: the answer of <c>check --explain</c> and <c>whatif</c>.</summary>
    public static int WriteExplanation(CliOutput output, Explanation explanation)
    {
        var decision = explanation.Decision;
        var exit = decision.Allowed ? ExitCodes.Ok : decision.Reason == ReasonCodes.Unavailable ? ExitCodes.Unreachable : ExitCodes.No;
        return output.Answer(exit,
            new
            {
                allowed = decision.Allowed,
                reason = decision.Reason,
                message = decision.Message,
                grantId = decision.GrantId,
                remaining = decision.Remaining,
                decidedBy = explanation.DecidedBy,
                suggestion = explanation.Suggestion,
            },
            $"{(decision.Allowed ? "ALLOWED" : "DENIED")} {decision.Reason}: {decision.Message}\n  decided by: {explanation.DecidedBy}" +
            (explanation.Suggestion is { } s ? $"\n  to allow it: {s}" : string.Empty));
    }
}

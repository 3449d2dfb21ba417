using System.CommandLine;
using AgentSecurity.Grants;
using AgentSecurity.Grants.Documents;

namespace AgentSecurity.Cli.Commands;

internal static class StatusCommand
{
    public static Command Create(CliApp app)
    {
        var agent = AgentArgument.Create();
        var command = new Command("status", "Show an agent's state and active grant") { agent };
        command.SetAction(async (result, cancellation) =>
        {
            var output = app.OutputFor(result);
            if (!AgentArgument.TryParse(result.GetValue(agent), out var tenantId, out var agentId))
            {
                return output.Usage($"\"{result.GetValue(agent)}\" is not TENANT/AGENT");
            }

            return await CommandSupport.WithClusterAsync(result, output, async client =>
            {
            var status = await client.GetStatusAsync(tenantId, agentId);
            var state = status.State.ToString().ToLowerInvariant();
            return output.Answer(ExitCodes.Ok, new
            {
                agent = status.Agent,
                state,
                grantId = status.GrantId,
                version = status.Version,
                signedBy = status.SignedBy,
                notBefore = status.NotBefore is { } nb ? DocumentTime.ToText(nb) : null,
                expiresAt = status.ExpiresAt is { } ea ? DocumentTime.ToText(ea) : null,
                previousGrantIds = status.PreviousGrantIds,
                problem = status.Problem,
            }, status.GrantId is null
                ? $"{status.Agent}: {state}, no grant" + (status.Problem is { } p ? $" ({p})" : string.Empty)
                : $"{status.Agent}: {state}, grant {status.GrantId} (version {status.Version}) signed by {status.SignedBy}, expires {DocumentTime.ToText(status.ExpiresAt!.Value)}");
            }, cancellation);
        });
        return command;
    }
}

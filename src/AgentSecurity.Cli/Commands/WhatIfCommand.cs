using System.CommandLine;
using AgentSecurity.Abstractions;

namespace AgentSecurity.Cli.Commands;

internal static class WhatIfCommand
{
    public static Command Create(CliApp app)
    {
        var agent = AgentArgument.Create();
        var capability = new Argument<string>("CAPABILITY") { Description = "The capability to ask about" };
        var resource = new Option<string?>("--resource") { Description = "The path, host:port, memory key or tool server/tool acted on" };
        var definitionHash = new Option<string?>("--definition-hash") { Description = "For tool:call: the hash of the tool's definition (sha256:HEX)" };
        var grant = new Option<string>("--grant") { Description = "A proposed grant (signed or not; - for standard input)", Required = true };
        var command = new Command("whatif", "Decide a request against a proposed grant, applying and consuming nothing") { agent, capability, resource, grant, definitionHash };
        command.SetAction(async (result, cancellation) =>
        {
            var output = app.OutputFor(result);
            if (!AgentArgument.TryParse(result.GetValue(agent), out var tenantId, out var agentId))
            {
                return output.Usage($"\"{result.GetValue(agent)}\" is not TENANT/AGENT");
            }

            var proposal = DocumentFiles.Read(result.GetRequiredValue(grant));
            if (!proposal.Succeeded)
            {
                return output.Error(proposal.Failure.Code, proposal.Failure.Message);
            }

            return await CommandSupport.WithClusterAsync(result, output, async client =>
                CheckCommand.WriteExplanation(output, await client.WhatIfAsync(tenantId, agentId, new CheckRequest(result.GetRequiredValue(capability), result.GetValue(resource)) { DefinitionHash = result.GetValue(definitionHash) }, proposal.Value)), cancellation);
        });
        return command;
    }
}

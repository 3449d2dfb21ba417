using System.CommandLine;
using System.Text;
using AgentSecurity.Abstractions;

namespace AgentSecurity.Cli.Commands;

/// <summary>An agent's own memory store, as its runtime uses it (values are UTF-8 text here).</summary>
internal static class MemoryCommands
{
    public static Command Create(CliApp app)
    {
        var agent = AgentArgument.Create();
        var key = new Argument<string>("KEY") { Description = "A memory key such as notes/today" };
        var get = new Command("get", "Read a key") { agent, key };
        get.SetAction((result, cancellation) => RunAsync(app, result, agent, a => a.GetMemoryAsync(result.GetRequiredValue(key)), cancellation));

        var putAgent = AgentArgument.Create();
        var putKey = new Argument<string>("KEY") { Description = "A memory key such as notes/today" };
        var value = new Argument<string>("VALUE") { Description = "The value (text)" };
        var put = new Command("put", "Write a key") { putAgent, putKey, value };
        put.SetAction((result, cancellation) => RunAsync(app, result, putAgent, a => a.PutMemoryAsync(result.GetRequiredValue(putKey), Encoding.UTF8.GetBytes(result.GetRequiredValue(value))), cancellation));

        var deleteAgent = AgentArgument.Create();
        var deleteKey = new Argument<string>("KEY") { Description = "A memory key such as notes/today" };
        var delete = new Command("delete", "Delete a key") { deleteAgent, deleteKey };
        delete.SetAction((result, cancellation) => RunAsync(app, result, deleteAgent, a => a.DeleteMemoryAsync(result.GetRequiredValue(deleteKey)), cancellation));

        var listAgent = AgentArgument.Create();
        var prefix = new Option<string?>("--prefix") { Description = "Only keys equal to or under this key" };
        var list = new Command("list", "List the keys the agent may read") { listAgent, prefix };
        list.SetAction((result, cancellation) => RunAsync(app, result, listAgent, a => a.ListMemoryAsync(result.GetValue(prefix)), cancellation));

        return new Command("memory", "An agent's own memory store (memory capability)") { get, put, delete, list };
    }

    private static async Task<int> RunAsync(CliApp app, ParseResult result, Argument<string> agentArgument, Func<IAgentGrain, Task<MemoryResult>> operation, CancellationToken cancellation)
    {
        var output = app.OutputFor(result);
        if (!AgentArgument.TryParse(result.GetValue(agentArgument), out var tenantId, out var agentId))
        {
            return output.Usage($"\"{result.GetValue(agentArgument)}\" is not TENANT/AGENT");
        }

        return await CommandSupport.WithClusterAsync(result, output, async client =>
        {
            var answer = await operation(client.Agent(tenantId, agentId));
            var decision = answer.Decision;
            if (!decision.Allowed)
            {
                return output.Error(decision.Reason, decision.Message);
            }

            var text = answer.Value is null ? null : Encoding.UTF8.GetString(answer.Value);
            return output.Answer(ExitCodes.Ok,
                new { found = answer.Found, value = text, keys = answer.Keys, storedBytes = answer.StoredBytes },
                answer.Keys is { } keys ? string.Join('\n', keys) : text ?? (answer.Found ? "ok" : "not found"));
        }, cancellation);
    }
}

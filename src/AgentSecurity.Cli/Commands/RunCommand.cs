using System.CommandLine;
using AgentSecurity.Abstractions;
using AgentSecurity.Grants;

namespace AgentSecurity.Cli.Commands;

/// <summary><c>run T/A --runtime wasm|js|process FILE [--input TEXT]</c>: agent code in the cluster's sandbox.</summary>
internal static class RunCommand
{
    public static Command Create(CliApp app)
    {
        var agent = AgentArgument.Create();
        var runtime = new Option<string>("--runtime") { Description = "wasm (a module, .wasm or .wat), js (a script) or process (an executable)", Required = true };
        runtime.AcceptOnlyFromAmong("wasm", "js", "process");
        var file = new Argument<FileInfo>("FILE") { Description = "The code to run" };
        var input = new Option<string?>("--input") { Description = "What the code reads as its input" };
        var command = new Command("run", "Run agent code in a sandbox; every host call it makes is checked against the grant (exit 0 ok, 1 failed)") { agent, runtime, file, input };
        command.SetAction(async (result, cancellation) =>
        {
            var output = app.OutputFor(result);
            if (!AgentArgument.TryParse(result.GetValue(agent), out var tenantId, out var agentId))
            {
                return output.Usage($"\"{result.GetValue(agent)}\" is not TENANT/AGENT");
            }

            var path = result.GetRequiredValue(file);
            if (!path.Exists)
            {
                return output.Usage($"{path.FullName} does not exist");
            }

            var code = await File.ReadAllBytesAsync(path.FullName, cancellation);
            return await CommandSupport.WithClusterAsync(result, output, async client =>
            {
                var run = await client.ExecuteAsync(tenantId, agentId, new ExecutionRequest
                {
                    Runtime = result.GetRequiredValue(runtime),
                    Code = code,
                    Input = result.GetValue(input) ?? string.Empty,
                });
                var usage = run.Usage;
                var exit = run.Ok ? ExitCodes.Ok : run.Error == ReasonCodes.Unavailable ? ExitCodes.Unreachable : ExitCodes.No;
                return output.Answer(exit,
                    new
                    {
                        ok = run.Ok,
                        output = run.Output,
                        error = run.Error,
                        message = run.Message,
                        grantId = run.GrantId,
                        usage = new { cpuMillis = usage.CpuMillis, wallMillis = usage.WallMillis, memoryBytes = usage.MemoryBytes, hostCalls = usage.HostCalls, denied = usage.Denied },
                    },
                    (run.Output.Length > 0 ? run.Output.TrimEnd('\n') + "\n" : string.Empty) +
                    (run.Ok ? "OK" : $"FAILED {run.Error}: {run.Message}") +
                    $" ({usage.WallMillis} ms, {usage.HostCalls} host calls, {usage.Denied} denied)");
            }, cancellation);
        });
        return command;
    }
}

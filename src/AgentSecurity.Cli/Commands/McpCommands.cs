using System.CommandLine;
using AgentSecurity.Abstractions.Tools;
using AgentSecurity.Grants.Tools;
using AgentSecurity.Mcp.Arguments;
using AgentSecurity.Mcp.CommandLine;
using AgentSecurity.Mcp.Gate;
using AgentSecurity.Mcp.Gateway;
using AgentSecurity.Mcp.Upstreams;
using Microsoft.Extensions.Logging;

namespace AgentSecurity.Cli.Commands;

/// <summary>
/// <c>agentsec mcp serve</c>: an MCP server on standard input/output in front of upstream MCP servers, checking every
/// tool call through the agent's grain; <c>agentsec mcp pins</c>: the definition hashes of the upstreams' tools.
/// </summary>
internal static class McpCommands
{
    public static Command Create(CliApp app) => new("mcp", "An MCP gateway that shows an agent only its granted tools and checks every call")
    {
        Serve(app),
        Pins(app),
    };

    private static Option<string[]> UpstreamOption() => new("--upstream")
    {
        Description = "An upstream MCP server NAME=COMMAND (started over stdio, COMMAND split like a shell, nothing expanded); its tools appear as NAME/tool",
        Required = true,
        AllowMultipleArgumentsPerToken = false,
    };

    private static Option<string[]> MapOption() => new("--map")
    {
        Description = "Which arguments of upstream NAME's tools name files: NAME=filesystem|none (default: filesystem for the reference filesystem server, else none)",
    };

    private static Command Serve(CliApp app)
    {
        var agent = AgentArgument.Create();
        var upstreams = UpstreamOption();
        var maps = MapOption();
        var command = new Command("serve", "Serve MCP on standard input/output for agent T/A: tools/list shows only its granted NAME/tool, every tools/call is checked and audited first; logs go to standard error")
        {
            agent, upstreams, maps,
        };
        command.SetAction(async (result, cancellation) =>
        {
            var output = app.OutputFor(result);
            if (!AgentArgument.TryParse(result.GetValue(agent), out var tenantId, out var agentId))
            {
                return output.Usage($"\"{result.GetValue(agent)}\" is not TENANT/AGENT");
            }

            if (!TryParseUpstreams(result.GetValue(upstreams), result.GetValue(maps), out var options, out var problem))
            {
                return output.Usage(problem);
            }

            // Standard output carries only JSON-RPC from here on: whatever else writes to Console.Out lands on stderr.
            var stdout = Console.OpenStandardOutput();
            var stdin = Console.OpenStandardInput();
            Console.SetOut(Console.Error);
            using var loggerFactory = StandardErrorLogger.CreateFactory();
            return await CommandSupport.WithClusterAsync(result, output, async client =>
            {
                var gate = new AgentToolGate(client.Agent(tenantId, agentId), $"{tenantId}/{agentId}", loggerFactory.CreateLogger<AgentToolGate>());
                await using var gateway = new McpGateway(options, gate, loggerFactory);
                try
                {
                    await gateway.RunAsync(stdin, stdout, cancellation);
                }
                catch (OperationCanceledException) when (cancellation.IsCancellationRequested)
                {
                    // Ctrl-C or the client closing ends the server.
                }

                return ExitCodes.Ok;
            }, cancellation);
        });
        return command;
    }

    private static Command Pins(CliApp app)
    {
        var upstreams = UpstreamOption();
        var maps = MapOption();
        var command = new Command("pins", "Start the upstreams and print a JSON line {\"tool\": \"NAME/tool\", \"pin\": \"sha256:...\"} for each of their tools, for grant sign --pin")
        {
            upstreams, maps,
        };
        command.SetAction(async (result, cancellation) =>
        {
            var output = app.OutputFor(result);
            if (!TryParseUpstreams(result.GetValue(upstreams), result.GetValue(maps), out var options, out var problem))
            {
                return output.Usage(problem);
            }

            using var loggerFactory = StandardErrorLogger.CreateFactory(LogLevel.Warning);
            await using var gateway = new McpGateway(options, new NoToolGate(), loggerFactory);
            var (tools, unavailable) = await gateway.ListUpstreamToolsAsync(cancellation);
            foreach (var tool in tools)
            {
                output.Out.WriteLine(CliOutput.Serialize(new { tool = tool.Tool, pin = tool.DefinitionHash }));
            }

            foreach (var (name, why) in unavailable)
            {
                output.Warning($"error: unavailable: upstream {name}: {why}");
            }

            return unavailable.Count == 0 ? ExitCodes.Ok : ExitCodes.Unreachable;
        });
        return command;
    }

    /// <summary>The <c>--upstream NAME=COMMAND</c> and <c>--map NAME=MAP</c> values as gateway options, or why they are wrong.</summary>
    internal static bool TryParseUpstreams(string[]? upstreams, string[]? maps, out McpGatewayOptions options, out string problem)
    {
        options = new McpGatewayOptions();
        problem = string.Empty;
        foreach (var spec in upstreams ?? [])
        {
            var equals = spec.IndexOf('=', StringComparison.Ordinal);
            var name = equals < 0 ? spec : spec[..equals];
            if (equals < 0 || !ToolNames.IsName(name))
            {
                problem = $"--upstream \"{spec}\": expected NAME=COMMAND with NAME like [A-Za-z0-9][A-Za-z0-9._-] (at most 64 characters)";
                return false;
            }

            if (options.Upstreams.Any(u => u.Name == name))
            {
                problem = $"--upstream {name} is given twice: each upstream needs its own NAME";
                return false;
            }

            IReadOnlyList<string> words;
            try
            {
                words = CommandLineSplitter.Split(spec[(equals + 1)..]);
            }
            catch (FormatException e)
            {
                problem = $"--upstream {name}: {e.Message}";
                return false;
            }

            if (words.Count == 0)
            {
                problem = $"--upstream {name}= names no command";
                return false;
            }

            options.Upstreams.Add(new UpstreamOptions { Name = name, Command = words[0], Arguments = [.. words.Skip(1)] });
        }

        foreach (var spec in maps ?? [])
        {
            var equals = spec.IndexOf('=', StringComparison.Ordinal);
            var upstream = equals < 0 ? null : options.Upstreams.FirstOrDefault(u => u.Name == spec[..equals]);
            var map = equals < 0 ? null : ArgumentMaps.Named(spec[(equals + 1)..]);
            if (upstream is null || map is null)
            {
                problem = $"--map \"{spec}\": expected NAME=filesystem|none for an --upstream NAME";
                return false;
            }

            upstream.ArgumentMap = map;
        }

        return true;
    }

    /// <summary><c>mcp pins</c> lists every tool as the upstream does and decides nothing: no agent is involved.</summary>
    private sealed class NoToolGate : IToolGate
    {
        public Task<bool[]> SelectVisibleToolsAsync(IReadOnlyList<ToolListing> tools, CancellationToken cancellationToken) => Task.FromResult(new bool[tools.Count]);

        public Task<bool[]> SelectAllowedAsync(IReadOnlyList<Abstractions.CheckRequest> checks, CancellationToken cancellationToken) => Task.FromResult(new bool[checks.Count]);

        public Task<ToolCallDecision> CheckToolCallAsync(ToolCall toolCall, CancellationToken cancellationToken) =>
            Task.FromResult(new ToolCallDecision { Decision = Abstractions.Decision.Deny(Grants.ReasonCodes.Unavailable, "no agent") });

        public Task RecordToolChangedAsync(ToolListing before, ToolListing after, CancellationToken cancellationToken) => Task.CompletedTask;
    }
}

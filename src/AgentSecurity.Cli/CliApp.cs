using System.CommandLine;
using AgentSecurity.Cli.Commands;

namespace AgentSecurity.Cli;

/// <summary>The <c>agentsec</c> command tree. <see cref="RunAsync"/> takes its writers so tests can run it in-process.</summary>
internal sealed class CliApp
{
    private readonly TextWriter _stdout;
    private readonly TextWriter _stderr;

    private CliApp(TextWriter stdout, TextWriter stderr)
    {
        _stdout = stdout;
        _stderr = stderr;
    }

    /// <summary>Answer as one JSON document on standard output.</summary>
    public static Option<bool> JsonOption { get; } = new("--json") { Description = "Write the answer as JSON on standard output", Recursive = true };

    /// <summary>Gateways of the cluster, <c>host:port[,host:port]</c>.</summary>
    public static Option<string?> GatewayOption { get; } = new("--gateway")
    {
        Description = $"Cluster gateways host:port[,host:port] (default: $AGENTSEC_GATEWAY or {Client.AgentSecurityClientBuilderExtensions.DefaultGateway})",
        Recursive = true,
    };

    public static Task<int> RunAsync(string[] args, TextWriter stdout, TextWriter stderr, CancellationToken cancellation = default) =>
        new CliApp(stdout, stderr).RunCoreAsync(args, cancellation);

    public CliOutput OutputFor(ParseResult result) => new(_stdout, _stderr, result.GetValue(JsonOption));

    private async Task<int> RunCoreAsync(string[] args, CancellationToken cancellation)
    {
        var root = new RootCommand("agentsec: signed grants and permission checks for AI agents on an Orleans cluster")
        {
            JsonOption,
            GatewayOption,
            Caller.AsOption,
            KeyCommands.Create(this),
            DidCommands.Create(this),
            GrantCommands.Create(this),
            TenantCommands.Create(this),
            CheckCommand.Create(this),
            RunCommand.Create(this),
            WhatIfCommand.Create(this),
            RevokeCommand.Create(this),
            AdminCommands.Create(this),
            AccessCommands.Create(this),
            RotateCommand.Create(this),
            QuarantineCommand.Create(this),
            RequestCommands.CreateRequest(this),
            RequestCommands.CreateRequests(this),
            MemoryCommands.Create(this),
            LimitsCommand.Create(this),
            AuditCommands.Create(this),
            StatusCommand.Create(this),
            BenchCommand.Create(this),
            TlsCommands.Create(this),
            McpCommands.Create(this),
        };

        var result = root.Parse(args);
        if (result.Errors.Count > 0)
        {
            return OutputFor(result).Usage(string.Join("; ", result.Errors.Select(e => e.Message)) + " (see agentsec --help)");
        }

        return await result.InvokeAsync(new InvocationConfiguration { Output = _stdout, Error = _stderr }, cancellation);
    }
}

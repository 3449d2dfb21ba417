using System.CommandLine;
using AgentSecurity.Abstractions;

namespace AgentSecurity.Cli;

/// <summary>The <c>T/A</c> argument naming an agent.</summary>
internal static class AgentArgument
{
    public static Argument<string> Create() => new("AGENT") { Description = "The agent as TENANT/AGENT" };

    public static bool TryParse(string? text, out string tenantId, out string agentId) => AgentKey.TryParse(text, out tenantId, out agentId);
}

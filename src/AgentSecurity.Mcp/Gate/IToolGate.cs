using AgentSecurity.Abstractions;
using AgentSecurity.Abstractions.Tools;

namespace AgentSecurity.Mcp.Gate;

/// <summary>
/// Where the gateway asks what an agent may see and call: the agent's grain in production (<see cref="AgentToolGate"/>).
/// The gateway never decides a tool call itself; it only refuses locally what cannot be asked (a name that is no tool,
/// arguments a map cannot read) and what it alone knows (a definition that changed while it ran).
/// </summary>
public interface IToolGate
{
    /// <summary>For each listed tool, whether the agent may be shown it; an answer of another length shows nothing.</summary>
    Task<bool[]> SelectVisibleToolsAsync(IReadOnlyList<ToolListing> tools, CancellationToken cancellationToken);

    /// <summary>Decides (and audits) one tool call with the checks its arguments map to; never throws.</summary>
    Task<ToolCallDecision> CheckToolCallAsync(ToolCall toolCall, CancellationToken cancellationToken);

    /// <summary>Records (and audits) a tool whose definition changed while the gateway served it.</summary>
    Task RecordToolChangedAsync(ToolListing before, ToolListing after, CancellationToken cancellationToken);
}

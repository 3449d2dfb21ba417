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

    /// <summary>
    /// For each check, whether the agent's grant allows it, quotas aside; decides and records nothing. What an answer
    /// may show of what the call did not name (a tree's folders). An answer of another length allows nothing.
    /// </summary>
    Task<bool[]> SelectAllowedAsync(IReadOnlyList<CheckRequest> checks, CancellationToken cancellationToken);

    /// <summary>Records (and audits) a tool whose definition changed while the gateway served it.</summary>
    Task RecordToolChangedAsync(ToolListing before, ToolListing after, CancellationToken cancellationToken);
}

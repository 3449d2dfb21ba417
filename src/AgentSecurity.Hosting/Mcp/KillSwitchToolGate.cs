using AgentSecurity.Abstractions;
using AgentSecurity.Abstractions.Tools;
using AgentSecurity.Grants;
using AgentSecurity.Mcp.Gate;

namespace AgentSecurity.Hosting.Mcp;

/// <summary>
/// The agent's gate, which also pulls the agent's kill switch when the grain's answer says the agent may run nothing
/// any more (quarantined, its grant revoked or expired, no grant, an isolation that forbids native processes): its
/// servers stop at once, not at the next request's admission.
/// </summary>
internal sealed class KillSwitchToolGate(IToolGate inner, Action<string> kill) : IToolGate
{
    public static bool EndsServers(string? reason) =>
        reason is ReasonCodes.Quarantined or ReasonCodes.Revoked or ReasonCodes.Expired or ReasonCodes.NoGrant or ReasonCodes.IsolationForbids;

    public Task<bool[]> SelectVisibleToolsAsync(IReadOnlyList<ToolListing> tools, CancellationToken cancellationToken) =>
        inner.SelectVisibleToolsAsync(tools, cancellationToken);

    public Task<bool[]> SelectAllowedAsync(IReadOnlyList<CheckRequest> checks, CancellationToken cancellationToken) =>
        inner.SelectAllowedAsync(checks, cancellationToken);

    public async Task<ToolCallDecision> CheckToolCallAsync(ToolCall toolCall, CancellationToken cancellationToken)
    {
        var decision = await inner.CheckToolCallAsync(toolCall, cancellationToken).ConfigureAwait(false);
        if (!decision.Allowed && EndsServers(decision.Decision.Reason))
        {
            kill(decision.Decision.Reason);
        }

        return decision;
    }

    public Task RecordToolChangedAsync(ToolListing before, ToolListing after, CancellationToken cancellationToken) =>
        inner.RecordToolChangedAsync(before, after, cancellationToken);
}

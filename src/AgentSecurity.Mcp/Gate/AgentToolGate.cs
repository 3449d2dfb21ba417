using AgentSecurity.Abstractions;
using AgentSecurity.Abstractions.Boundary;
using AgentSecurity.Abstractions.Tools;
using AgentSecurity.Grants;
using AgentSecurity.Mcp.Telemetry;
using Microsoft.Extensions.Logging;

namespace AgentSecurity.Mcp.Gate;

/// <summary>
/// The gate of one agent: its grain. Fails closed: when the grain cannot answer (the cluster is down, the caller lacks
/// the <c>check</c> right, a timeout), a call is denied (<c>unavailable</c>, or the boundary's own code) and nothing is
/// shown; an error never lets a call through.
/// </summary>
public sealed class AgentToolGate(IAgentGrain agent, string agentName, ILogger<AgentToolGate> logger) : IToolGate
{
    public async Task<bool[]> SelectVisibleToolsAsync(IReadOnlyList<ToolListing> tools, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(tools);
        try
        {
            return await agent.SelectVisibleToolsAsync(tools).WaitAsync(cancellationToken);
        }
#pragma warning disable CA1031 // Fail closed: any failure shows nothing.
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
#pragma warning restore CA1031
        {
            Log.GateFailed(logger, agentName, "tools/list", e);
            return new bool[tools.Count];
        }
    }

    public async Task<bool[]> SelectAllowedAsync(IReadOnlyList<CheckRequest> checks, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(checks);
        try
        {
            return await agent.SelectAllowedAsync(checks).WaitAsync(cancellationToken);
        }
#pragma warning disable CA1031 // Fail closed: any failure allows nothing.
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
#pragma warning restore CA1031
        {
            Log.GateFailed(logger, agentName, "checks of an answer", e);
            return new bool[checks.Count];
        }
    }

    public async Task<ToolCallDecision> CheckToolCallAsync(ToolCall toolCall, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(toolCall);
        try
        {
            return await agent.CheckToolCallAsync(toolCall).WaitAsync(cancellationToken);
        }
        catch (CallRefusedException e)
        {
            // The boundary refused the caller (no session, no check right): its code says why, and nothing runs.
            return new ToolCallDecision { Decision = Decision.Deny(e.Code is { Length: > 0 } code ? code : ReasonCodes.Forbidden, e.Message) };
        }
#pragma warning disable CA1031 // Fail closed: any failure denies.
        catch (Exception e)
#pragma warning restore CA1031
        {
            Log.GateFailed(logger, agentName, "tools/call " + toolCall.Tool, e);
            // The exception's message stays in the log: it can name the cluster's silos and storage, and a refusal goes to the agent.
            return new ToolCallDecision { Decision = Decision.Deny(ReasonCodes.Unavailable, $"the agent's grain could not decide the call ({e.GetType().Name}; the gateway's log has the details)") };
        }
    }

    public async Task RecordToolChangedAsync(ToolListing before, ToolListing after, CancellationToken cancellationToken)
    {
        try
        {
            await agent.RecordToolChangedAsync(before, after).WaitAsync(cancellationToken);
        }
#pragma warning disable CA1031 // The gateway refuses the changed tool whether or not the record arrived; the failure is logged.
        catch (Exception e)
#pragma warning restore CA1031
        {
            Log.GateFailed(logger, agentName, "tool.changed " + before.Tool, e);
        }
    }
}

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
    public Task<bool[]> SelectVisibleToolsAsync(IReadOnlyList<ToolListing> tools, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(tools);
        return SelectAsync(() => agent.SelectVisibleToolsAsync(tools), tools.Count, "tools/list", cancellationToken);
    }

    public Task<bool[]> SelectAllowedAsync(IReadOnlyList<CheckRequest> checks, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(checks);
        return SelectAsync(() => agent.SelectAllowedAsync(checks), checks.Count, "checks of an answer", cancellationToken);
    }

    /// <summary>The grain's selection, or none of <paramref name="count"/> selected when it cannot answer.</summary>
    private async Task<bool[]> SelectAsync(Func<Task<bool[]>> ask, int count, string operation, CancellationToken cancellationToken)
    {
        try
        {
            return await ask().WaitAsync(cancellationToken);
        }
#pragma warning disable CA1031 // Fail closed: any failure selects nothing.
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
#pragma warning restore CA1031
        {
            Log.GateFailed(logger, agentName, operation, e);
            return new bool[count];
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

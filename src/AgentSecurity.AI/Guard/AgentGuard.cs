using AgentSecurity.Abstractions;
using AgentSecurity.Abstractions.Boundary;
using AgentSecurity.Abstractions.Tools;
using AgentSecurity.AI.Telemetry;
using AgentSecurity.Grants;
using Microsoft.Extensions.Logging;

namespace AgentSecurity.AI.Guard;

/// <summary>
/// One agent's grain as the guard asks it, failing closed: when the grain cannot answer (the cluster is unreachable, the
/// caller lacks the <c>check</c> right, a timeout) nothing is offered, every call is refused (<c>unavailable</c>, or the
/// boundary's own code) and a run does not start. An error never lets anything through.
/// </summary>
internal sealed class AgentGuard(IAgentGrain grain, AgentGuardOptions options, ILogger logger)
{
    public AgentGuardOptions Options { get; } = options;

    /// <summary>The agent as logs name it (the grain's key).</summary>
    public string Agent { get; } = NameOf(grain);

    public ILogger Logger { get; } = logger;

    /// <summary>The tool a function is, or empty when the configured naming fails (never offered, refused when called).</summary>
    public string ToolOf(string function)
    {
        try
        {
            return Options.ToolName(function) ?? string.Empty;
        }
#pragma warning disable CA1031 // A naming that throws names no tool: the grain refuses it as no tool server/tool.
        catch (Exception)
#pragma warning restore CA1031
        {
            return string.Empty;
        }
    }

    public Task<bool[]> SelectVisibleAsync(IReadOnlyList<ToolListing> tools, CancellationToken cancellation) =>
        AskAsync("tools", () => grain.SelectVisibleToolsAsync(tools), _ => new bool[tools.Count], cancellation);

    /// <summary>Whether calling the tool would ask for a person's approval now; decides and records nothing.</summary>
    public Task<bool> NeedsApprovalAsync(string tool, CancellationToken cancellation) =>
        AskAsync("explain " + tool,
            async () => (await grain.ExplainAsync(new CheckRequest(Capabilities.ToolCall, tool))).Decision.Reason == ReasonCodes.ApprovalRequired,
            _ => true, cancellation);

    public Task<ToolCallDecision> CheckToolCallAsync(ToolCall call, CancellationToken cancellation) =>
        AskAsync("tool:call " + call.Tool, () => grain.CheckToolCallAsync(call), e => new ToolCallDecision { Decision = Refusal(e) }, cancellation);

    public Task<Decision> CheckAsync(CheckRequest request, CancellationToken cancellation) =>
        AskAsync(request.Capability, () => grain.CheckAsync(request), Refusal, cancellation);

    public Task<Decision> ChargeUsageAsync(CheckRequest usage, CancellationToken cancellation) =>
        AskAsync("charge " + usage.Capability, () => grain.ChargeUsageAsync(usage), Refusal, cancellation);

    /// <summary>Whether the agent may run at all: active, with a grant that loaded; else why not.</summary>
    public Task<Decision> CheckStandingAsync(CancellationToken cancellation) =>
        AskAsync("status", async () =>
        {
            var status = await grain.GetStatusAsync();
            return status switch
            {
                { State: AgentState.Quarantined } => Decision.Deny(ReasonCodes.Quarantined, $"the agent is quarantined: {status.QuarantineReason}", status.GrantId),
                { State: AgentState.Suspended } => Decision.Deny(ReasonCodes.Suspended, "the agent is suspended", status.GrantId),
                { Problem: { } problem } => Decision.Deny(ReasonCodes.Unavailable, $"the agent's grant could not be loaded: {problem}", status.GrantId),
                { GrantId: null } => Decision.Deny(ReasonCodes.NoGrant, "the agent has no grant", null),
                { Revoked: true } => Decision.Deny(ReasonCodes.Revoked, "the agent's grant was revoked", status.GrantId),
                _ => new Decision { Allowed = true, Reason = ReasonCodes.Allowed, Message = "the agent may run", GrantId = status.GrantId },
            };
        }, Refusal, cancellation);

    private async Task<T> AskAsync<T>(string operation, Func<Task<T>> ask, Func<Exception, T> refuse, CancellationToken cancellation)
    {
        try
        {
            // The platform's session for this call, or the one already in the flow.
            using var session = Options.Session is { } current ? CallerContext.UseSession(current()) : null;
            return await ask().WaitAsync(cancellation).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellation.IsCancellationRequested)
        {
            throw;
        }
#pragma warning disable CA1031 // Fail closed: any failure refuses.
        catch (Exception e)
#pragma warning restore CA1031
        {
            if (e is not CallRefusedException)
            {
                Log.GrainFailed(Logger, Agent, operation, e);
            }

            return refuse(e);
        }
    }

    private static string NameOf(IAgentGrain grain)
    {
        try
        {
            return grain.GetPrimaryKeyString() ?? "?";
        }
#pragma warning disable CA1031 // A stand-in that is no grain reference (a test's) is named by its type.
        catch (Exception)
#pragma warning restore CA1031
        {
            return grain.GetType().Name;
        }
    }

    private static Decision Refusal(Exception e) => e is CallRefusedException refused
        ? Decision.Deny(refused.Code is { Length: > 0 } code ? code : ReasonCodes.Forbidden, refused.Message)
        // The exception's message stays in the log (event 12001): it can name the cluster's silos, and a refusal reaches the model.
        : Decision.Deny(ReasonCodes.Unavailable, $"the agent's grain could not decide ({e.GetType().Name}; the application's log has the details)");
}

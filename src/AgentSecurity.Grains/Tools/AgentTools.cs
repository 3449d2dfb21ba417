using AgentSecurity.Abstractions;
using AgentSecurity.Abstractions.Audit;
using AgentSecurity.Abstractions.Tools;
using AgentSecurity.Grains.Agents;
using AgentSecurity.Grains.Audit;
using AgentSecurity.Grains.Permissions;
using AgentSecurity.Grants;
using AgentSecurity.Grants.Tools;

namespace AgentSecurity.Grains.Tools;

/// <summary>
/// An agent's tool calls, as a gateway (MCP, an agent framework) puts them to the grain: the tool and everything its
/// arguments touch decided in one turn, approvals turned into permission requests, every call recorded.
/// </summary>
internal sealed class AgentTools(
    AgentContext agent,
    AgentPermissions permissions,
    AgentAudit audit,
    AgentGrants grants,
    IAgentDecisions decisions)
{
    /// <summary>A gateway asks about its tools (or an answer's folders) in lists of at most this many; a longer list shows nothing.</summary>
    public const int MaxListedTools = 1024;

    /// <summary>Changed definitions recorded per activation; the same change reported again is recorded once.</summary>
    private const int MaxRecordedChanges = 256;

    // Made by the first change recorded: most agents never see one (bytes per active agent count).
    private HashSet<(string Tool, string Hash)>? _recordedChanges;

    public async Task<ToolCallDecision> CheckAsync(ToolCall? call)
    {
        var now = agent.Now;
        var tool = new CheckRequest(Capabilities.ToolCall, call?.Tool) { DefinitionHash = call?.DefinitionHash };
        var (decision, refusedBy) = Malformed(call) is { } malformed ? (malformed, null) : Decide(tool, call!.Resources, now);
        if (decision.Allowed)
        {
            // Only a call allowed whole is metered, so a refusal (of its tool or of any argument) consumes nothing. A quota
            // that runs out part way keeps what the checks before it metered.
            (decision, refusedBy) = await MeterAsync(tool, call!.Resources, now);
        }

        string? requestId = null;
        if (decision.Reason == ReasonCodes.ApprovalRequired)
        {
            (decision, requestId) = await AskForApprovalAsync(call!.Tool, decision);
        }

        _ = ToolNames.TrySplit(call?.Tool, out var server, out var name);
        var recorded = await audit.RecordToolAsync(new ToolEvent
        {
            Id = string.Empty,
            Type = decision.Allowed ? SecurityEventTypes.ToolCalled : SecurityEventTypes.ToolDenied,
            TenantId = agent.TenantId,
            AgentId = agent.AgentId,
            Server = server,
            Tool = name.Length > 0 ? name : call?.Tool ?? string.Empty,
            GrantId = decision.GrantId,
            DefinitionHash = call?.DefinitionHash,
            Capability = refusedBy?.Capability,
            Resource = refusedBy?.Resource,
            RequestId = requestId,
            Reason = decision.Reason,
            Message = decision.Allowed ? null : decision.Message,
        }, decision);
        return new ToolCallDecision { Decision = recorded, RefusedBy = refusedBy, RequestId = requestId };
    }

    /// <summary>The tool, then each resource its arguments touch (only if the tool is allowed); the first refusal answers.</summary>
    private (Decision, CheckRequest?) Decide(CheckRequest tool, IReadOnlyList<CheckRequest> resources, DateTimeOffset now)
    {
        var decision = permissions.Decide(tool, now, agent.Key);
        if (!decision.Allowed)
        {
            return (decision, null);
        }

        foreach (var resource in resources)
        {
            var decided = permissions.Decide(resource, now, agent.Key);
            if (!decided.Allowed)
            {
                return (decided, resource);
            }
        }

        return (decision, null);
    }

    private async Task<(Decision, CheckRequest?)> MeterAsync(CheckRequest tool, IReadOnlyList<CheckRequest> resources, DateTimeOffset now)
    {
        var decision = await decisions.DecideAndMeterAsync(tool, now);
        if (!decision.Allowed)
        {
            return (decision, null);
        }

        foreach (var resource in resources)
        {
            var metered = await decisions.DecideAndMeterAsync(resource, now);
            if (!metered.Allowed)
            {
                return (metered, resource);
            }
        }

        return (decision, null);
    }

    public bool[] SelectVisible(IReadOnlyList<ToolListing>? tools)
    {
        if (tools is null || tools.Count > MaxListedTools)
        {
            return tools is null ? [] : new bool[tools.Count];
        }

        var now = agent.Now;
        return tools.Select(t => t is not null && permissions.Shows(t.Tool, t.DefinitionHash, now, agent.Key)).ToArray();
    }

    /// <summary>
    /// Each request as the grant decides it, quotas aside: what a gateway may show of an answer (a tree's folders). A
    /// quota is spent by the call that produced the answer; what the answer names is shown by scope.
    /// </summary>
    public bool[] SelectAllowed(IReadOnlyList<CheckRequest>? requests)
    {
        if (requests is null || requests.Count > MaxListedTools)
        {
            return requests is null ? [] : new bool[requests.Count];
        }

        var now = agent.Now;
        return requests.Select(r => r is not null && permissions.Decide(r, now, agent.Key).Allowed).ToArray();
    }

    public Task RecordChangedAsync(ToolListing? before, ToolListing? after)
    {
        // Recorded for a tool the grant names, once per change and activation, a bounded number of times: whoever may
        // check for the agent must not be able to fill its tenant's log with changes of tools it never had.
        if (!audit.IsAudited || after is null || !ToolNames.TrySplit(after.Tool, out var server, out var name) || !ToolDefinitionHash.IsHash(after.DefinitionHash)
            || permissions.Decide(new CheckRequest(Capabilities.ToolCall, after.Tool) { DefinitionHash = after.DefinitionHash }, agent.Now, agent.Key).Reason
                is not (ReasonCodes.Allowed or ReasonCodes.ApprovalRequired or ReasonCodes.ToolChanged)
            || _recordedChanges?.Count >= MaxRecordedChanges || !(_recordedChanges ??= []).Add((after.Tool, after.DefinitionHash!)))
        {
            return Task.CompletedTask;
        }

        var was = before?.DefinitionHash ?? "(none)";
        return audit.PublishAsync(new ToolEvent
        {
            Id = string.Empty,
            Type = SecurityEventTypes.ToolChanged,
            TenantId = agent.TenantId,
            AgentId = agent.AgentId,
            Server = server,
            Tool = name,
            GrantId = permissions.Active?.GrantId,
            DefinitionHash = after.DefinitionHash,
            Reason = ReasonCodes.ToolChanged,
            Message = $"the definition of {after.Tool} changed from {was} to {after.DefinitionHash} while a gateway served it",
        });
    }

    private static Decision? Malformed(ToolCall? call)
    {
        if (call is null || !ToolNames.IsTool(call.Tool))
        {
            return Decision.Deny(ReasonCodes.InvalidResource, $"\"{call?.Tool}\" is not a tool server/tool");
        }

        if (call.Resources is null || call.Resources.Count > ToolCall.MaxResources)
        {
            return Decision.Deny(ReasonCodes.InvalidRequest, $"a tool call names at most {ToolCall.MaxResources} resources");
        }

        return call.Resources.Any(r => r is null || r.Capability == Capabilities.ToolCall)
            ? Decision.Deny(ReasonCodes.InvalidRequest, "the resources of a tool call are checks of what its arguments touch, not tool calls")
            : null;
    }

    /// <summary>Records the permission request a call that needs approval waits on (the same one while it waits).</summary>
    private async Task<(Decision, string?)> AskForApprovalAsync(string tool, Decision refused)
    {
        var request = await grants.RequestAsync(new PermissionRequestInput
        {
            Capability = Capabilities.ToolCall,
            Resource = tool,
            Justification = $"a call of {tool}, which needs a person's approval",
        });
        return request.RequestId is { } id
            ? (refused with { Message = $"{refused.Message}; request {id} waits for an answer (agentsec requests approve {agent.TenantId} {id} --key KEY)" }, id)
            : (refused with { Message = $"{refused.Message}; the permission request could not be recorded: {request.Error} {request.Message}" }, null);
    }
}

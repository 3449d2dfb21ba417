using AgentSecurity.Abstractions;
using AgentSecurity.Abstractions.Audit;
using AgentSecurity.Grains.Agents;
using AgentSecurity.Grains.Outbox;
using AgentSecurity.Grains.Permissions;
using AgentSecurity.Grains.Telemetry;
using AgentSecurity.Grants;
using AgentSecurity.Grants.Documents;

namespace AgentSecurity.Grains.Quarantine;

/// <summary>
/// The kill switch: a quarantined agent is denied every check and its running executions stop. A signed document of a
/// root or admin quarantines or releases; a detection rule may only quarantine, and only a release issued after it lifts it.
/// </summary>
internal sealed class AgentQuarantine(AgentContext agent, StateOutbox<AgentGrainState> outbox, AgentPermissions permissions, IAgentParts parts)
{
    private AgentGrainState State => outbox.State;

    public async Task<QuarantineResult> ApplyAsync(string? signedQuarantine)
    {
        var parsed = QuarantineDocument.Parse(signedQuarantine ?? string.Empty);
        if (!parsed.TryGetValue(out var document))
        {
            return Refused(parsed.Failure);
        }

        if ((Admit(document) ?? await VerifyAsync(signedQuarantine!)) is { } failure)
        {
            return Refused(failure);
        }

        var newState = document.Quarantine ? AgentState.Quarantined : AgentState.Active;
        var type = document.Quarantine ? SecurityEventTypes.AgentQuarantined : SecurityEventTypes.AgentReleased;
        var reason = document.Quarantine ? ReasonCodes.Quarantined : ReasonCodes.Allowed;
        if (!await outbox.CommitAsync(
            s => (s.State, s.QuarantineReason, s.QuarantineIssuedAt) = (newState, document.Reason, document.Envelope.IssuedAt),
            agent.Administrative(type, signer: document.Envelope.SignedBy.Value, reason: reason, message: document.Reason)))
        {
            return Refused(new Failure(ReasonCodes.Unavailable, "the quarantine could not be stored"));
        }

        permissions.State = newState;
        if (newState == AgentState.Quarantined)
        {
            parts.ExecutionsIfAny?.StopAll(ReasonCodes.Quarantined, $"{agent.Key} was quarantined: {document.Reason}");
        }

        Log.QuarantineChanged(agent.Logger, agent.Key, newState.ToString(), document.Reason);
        return new QuarantineResult { Accepted = true, Agent = agent.Key, State = newState };
    }

    /// <summary>Unsigned, so it can only make the agent stricter; dated now, so no release issued before it can lift it.</summary>
    public async Task<QuarantineResult> ApplyRuleAsync(string rule, string reason)
    {
        if (!agent.IsValidKey || State.State == AgentState.Quarantined)
        {
            return new QuarantineResult { Accepted = State.State == AgentState.Quarantined, Agent = agent.Key, State = State.State };
        }

        var now = DocumentTime.WholeSeconds(agent.Now);
        var why = $"detection rule {rule}: {reason}";
        if (!await outbox.CommitAsync(
            s => (s.State, s.QuarantineReason, s.QuarantineIssuedAt) = (AgentState.Quarantined, why, now),
            agent.Administrative(SecurityEventTypes.AgentQuarantined, reason: ReasonCodes.Quarantined, message: why)))
        {
            return Refused(new Failure(ReasonCodes.Unavailable, "the quarantine could not be stored"));
        }

        permissions.State = AgentState.Quarantined;
        parts.ExecutionsIfAny?.StopAll(ReasonCodes.Quarantined, $"{agent.Key} was quarantined by detection rule {rule}");
        Log.QuarantineChanged(agent.Logger, agent.Key, nameof(AgentState.Quarantined), rule);
        return new QuarantineResult { Accepted = true, Agent = agent.Key, State = AgentState.Quarantined };
    }

    /// <summary>What the agent checks itself: its key, the addressee, and that the document is newer than the last one.</summary>
    private Failure? Admit(QuarantineDocument document)
    {
        if (agent.KeyFailure is { } bad)
        {
            return bad;
        }

        if (document.TenantId != agent.TenantId)
        {
            return new Failure(ReasonCodes.TenantMismatch, $"the document is for tenant {document.TenantId}, not {agent.TenantId}");
        }

        if (document.AgentId != agent.AgentId)
        {
            return new Failure(ReasonCodes.AgentMismatch, $"the document is for agent {document.AgentId}, not {agent.AgentId}");
        }

        return State.QuarantineIssuedAt is { } last && document.Envelope.IssuedAt <= last
            ? new Failure(ReasonCodes.Stale, $"issued {DocumentTime.ToText(document.Envelope.IssuedAt)}, not after the last quarantine document ({DocumentTime.ToText(last)})")
            : null;
    }

    /// <summary>The issuer says whether a root or admin signed it.</summary>
    private async Task<Failure?> VerifyAsync(string signedQuarantine)
    {
        var verification = await agent.Issuer.VerifyQuarantineAsync(signedQuarantine);
        return verification.Accepted ? null : new Failure(verification.Error!, verification.Message!);
    }

    private QuarantineResult Refused(Failure failure) =>
        new() { Agent = agent.Key, State = State.State, Error = failure.Code, Message = failure.Message };
}

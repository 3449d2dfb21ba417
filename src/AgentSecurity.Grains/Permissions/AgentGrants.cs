using AgentSecurity.Abstractions;
using AgentSecurity.Abstractions.Audit;
using AgentSecurity.Grains.Agents;
using AgentSecurity.Grains.Audit;
using AgentSecurity.Grains.Outbox;
using AgentSecurity.Grains.Quotas;
using AgentSecurity.Grains.Telemetry;
using AgentSecurity.Grants;
using AgentSecurity.Grants.Capabilities;
using AgentSecurity.Grants.Documents;
using AgentSecurity.Grants.Policy;
using AgentSecurity.Grants.Verification;

namespace AgentSecurity.Grains.Permissions;

/// <summary>
/// How an agent's permissions change: grants applied (verified by the tenant's issuer, written before they decide
/// anything), elevations answering its permission requests, revocation notices, and loading what storage holds (which
/// is re-verified and confirmed by the issuer, never trusted on its own).
/// </summary>
internal sealed class AgentGrants(
    AgentContext agent,
    StateOutbox<AgentGrainState> outbox,
    AgentPermissions permissions,
    AgentAudit audit,
    AgentMetering metering,
    IAgentParts parts)
{
    /// <summary>Elevations an agent holds at once; the oldest goes first.</summary>
    public const int MaxElevations = 8;

    /// <summary>How many grants issued in the same second may replace one another on one agent.</summary>
    public const int MaxReplacementsInOneSecond = 64;

    private const int MaxJustificationLength = 512;

    private AgentGrainState State => outbox.State;

    /// <summary>Reads the stored grants and elevations and asks the issuer which of them still stand.</summary>
    public async Task LoadAsync()
    {
        permissions.State = State.State;
        if (State.GrantDocument is { } stored)
        {
            permissions.Active = LoadStored(stored, "grant", elevation: false);
            metering.Configure(permissions.Active?.Limits ?? ResourceLimits.None);
        }

        permissions.SetElevations(State.Elevations.Select(e => LoadStored(e, "elevation", elevation: true)).OfType<ActiveGrant>());

        // Storage is not trusted on its own: the issuer confirms each live grant read back (same content, accepted by
        // the tenant) and says which were revoked while this agent was not active.
        var now = agent.Now;
        var live = new[] { permissions.Active }.Concat(permissions.Elevations).OfType<ActiveGrant>().Where(g => g.ExpiresAt > now).ToList();
        if (live.Count == 0)
        {
            return;
        }

        var statuses = await agent.Issuer.ConfirmStoredGrantsAsync(live.Select(g => new StoredGrantRef(g.GrantId, g.ContentHash)).ToArray());
        foreach (var status in statuses)
        {
            if (status.State == StoredGrantState.Revoked)
            {
                permissions.MarkRevoked(status.GrantId);
            }
            else if (status.State == StoredGrantState.Unknown)
            {
                permissions.Problem = $"the stored grant {status.GrantId} is not one the tenant accepted; apply a grant again";
                Log.StoredGrantRejected(agent.Logger, agent.Key, permissions.Problem);
            }
        }
    }

    public async Task<ApplyGrantResult> ApplyAsync(string? signedGrant)
    {
        var (grant, refusal) = Admit(signedGrant);
        if (refusal is null && CannotReplace(grant!) is { } failure)
        {
            refusal = Refused(failure, grant!.GrantId);
        }

        if (refusal is null && await VerifyAsync(agent.Issuer.VerifyGrantAsync(signedGrant!)) is { } unverified)
        {
            refusal = Refused(unverified, grant!.GrantId);
        }

        if (refusal is not null)
        {
            return await RefuseAsync(refusal, grant);
        }

        var previous = permissions.Active;
        if (previous is not null && previous.HasContent(grant!.Envelope.ContentHash))
        {
            return Applied(grant.GrantId, unchanged: true);
        }

        // The change captures what it writes, not the parsed grant: the outbox may hold on to its last change.
        var history = agent.Options.GrantHistoryLength;
        var text = grant!.Envelope.CanonicalText;
        var previousId = previous?.GrantId;
        var sameSecond = previous is not null && previous.IssuedAt == grant.IssuedAt;
        // Compiled before the write so that the state can hold the text as what rebuilds it; active once written.
        var active = ActiveGrant.Compile(grant, agent.Options.ClockSkew);
        var rebuilt = Rebuilt(grant, active, text);
        var written = await outbox.CommitAsync(
            s =>
            {
                s.ReplacedInActiveSecond = sameSecond ? [.. s.ReplacedInActiveSecond, previousId!] : [];
                if (previousId is not null)
                {
                    s.PreviousGrantIds = [.. new[] { previousId }.Concat(s.PreviousGrantIds).Take(history)];
                }

                s.SetGrantDocument(text, rebuilt);
                s.Version++;
            },
            agent.Administrative(SecurityEventTypes.GrantApplied, grant.GrantId, grant.SignedBy.Value, ReasonCodes.Allowed, previous is null ? "first grant" : $"replaces {previous.GrantId}"));
        if (!written)
        {
            return await RefuseAsync(Refused(new Failure(ReasonCodes.Unavailable, "the grant could not be stored; the previous grant stays in force"), grant.GrantId), grant);
        }

        permissions.Active = active;
        permissions.Problem = null;
        SharedStrings.Tenants.For(agent.TenantId); // a verified grant's tenant: the agents activated after share its id
        parts.ExecutionsIfAny?.Review(permissions.Active);
        metering.Reconfigure(grant.Limits);
        Log.GrantApplied(agent.Logger, grant.GrantId, agent.Key, State.Version, grant.SignedBy.Value);
        agent.Metrics.GrantsApplied.Add(1);
        return Applied(grant.GrantId, unchanged: false);
    }

    public async Task<ApplyGrantResult> ApplyElevationAsync(string? requestId, string? signedGrant)
    {
        var (grant, refusal) = Admit(signedGrant);
        if (refusal is null && await VerifyAsync(agent.Issuer.VerifyElevationAsync(requestId ?? string.Empty, signedGrant!)) is { } unverified)
        {
            refusal = Refused(unverified, grant!.GrantId);
        }

        if (refusal is not null)
        {
            return await RefuseAsync(refusal, grant);
        }

        var now = agent.Now;
        var kept = permissions.Elevations.Where(e => e.ExpiresAt > now).TakeLast(MaxElevations - 1).ToList();
        var written = await outbox.CommitAsync(
            s => s.Elevations = [.. kept.Select(e => e.ElevationText!), grant!.Envelope.CanonicalText],
            agent.Administrative(SecurityEventTypes.GrantApplied, grant!.GrantId, grant.SignedBy.Value, ReasonCodes.Allowed, $"elevation answering {requestId}"));
        if (!written)
        {
            return await RefuseAsync(Refused(new Failure(ReasonCodes.Unavailable, "the elevation could not be stored"), grant.GrantId), grant);
        }

        permissions.SetElevations([.. kept, ActiveGrant.CompileElevation(grant, agent.Options.ClockSkew)]);
        Log.GrantApplied(agent.Logger, grant.GrantId, agent.Key, State.Version, grant.SignedBy.Value);
        return Applied(grant.GrantId, unchanged: false);
    }

    /// <summary>
    /// Confirmed with the issuer, so a stray notice cannot deny an agent anything that was not really revoked. The id is
    /// kept even if the agent does not hold that grant yet: an apply of it may be storing right now.
    /// </summary>
    public async Task NotifyRevokedAsync(string grantId)
    {
        if (permissions.IsRevoked(grantId) || (await agent.Issuer.FindRevokedAsync([grantId])).Count == 0)
        {
            return;
        }

        permissions.MarkRevoked(grantId);
        if (permissions.IsActiveRevoked)
        {
            parts.ExecutionsIfAny?.StopAll(ReasonCodes.Revoked, $"grant {grantId} was revoked");
        }

        Log.AgentGrantRevoked(agent.Logger, agent.Key, grantId);
    }

    /// <summary>
    /// Only an agent in good standing has a grant that can be delegated: not quarantined, not revoked. Its text is the
    /// state's: the active grant is compiled from what the state holds (applied, or loaded and verified), never from
    /// anything else, so memory keeps one copy of it.
    /// </summary>
    public string? ActiveGrantText(string grantId) =>
        permissions.Active is { } active && active.GrantId == grantId && !permissions.IsRevoked(grantId) &&
        permissions.State == AgentState.Active && permissions.Problem is null
            ? State.GrantDocument
            : null;

    /// <summary>Asks for a capability the agent lacks; the issuer records the request for the tenant's admins.</summary>
    public async Task<PermissionRequestResult> RequestAsync(PermissionRequestInput? request)
    {
        if (RequestFailure(request) is { } failure)
        {
            return new PermissionRequestResult { Error = failure.Code, Message = failure.Message };
        }

        if (permissions.Decide(new CheckRequest(request!.Capability, request.Resource), agent.Now, agent.Key).Allowed)
        {
            return new PermissionRequestResult { AlreadyAllowed = true, Message = $"{agent.Key} may already do this" };
        }

        return await agent.Issuer.RecordRequestAsync(agent.AgentId, request);
    }

    private Failure? RequestFailure(PermissionRequestInput? request)
    {
        if (agent.KeyFailure is { } bad)
        {
            return bad;
        }

        if (request is null || !CheckKinds.TryParse(request.Capability, out var kind))
        {
            return new Failure(ReasonCodes.UnknownCapability, $"\"{request?.Capability}\" is not a capability");
        }

        if (request.Resource is not null && kind.ResourceKindOf() is { } resourceKind && !ResourceNames.IsNormal(request.Resource, resourceKind))
        {
            return new Failure(ReasonCodes.InvalidResource, $"\"{request.Resource}\" is not in normal form");
        }

        if (kind == CheckKind.ToolCall && request.Resource is null)
        {
            return new Failure(ReasonCodes.InvalidResource, "a request for tool:call names the tool: server/tool");
        }

        return string.IsNullOrWhiteSpace(request.Justification) || request.Justification.Length > MaxJustificationLength || request.Justification.Any(char.IsControl)
            ? new Failure(ReasonCodes.InvalidRequest, $"a justification is 1 to {MaxJustificationLength} characters without control characters")
            : null;
    }

    /// <summary>The checks an agent makes itself before asking the issuer: form, and that the grant is for this agent.</summary>
    private (GrantDocument? Grant, ApplyGrantResult? Refusal) Admit(string? signedGrant)
    {
        if (agent.KeyFailure is { } bad)
        {
            return (null, Refused(bad));
        }

        var parsed = GrantDocument.Parse(signedGrant ?? string.Empty);
        if (!parsed.TryGetValue(out var grant))
        {
            return (null, Refused(parsed.Failure));
        }

        if (grant.TenantId != agent.TenantId)
        {
            return (grant, Refused(new Failure(ReasonCodes.TenantMismatch, $"the grant is for tenant {grant.TenantId}, not {agent.TenantId}"), grant.GrantId));
        }

        return grant.AgentId != agent.AgentId
            ? (grant, Refused(new Failure(ReasonCodes.AgentMismatch, $"the grant is for agent {grant.TenantId}/{grant.AgentId}, not {agent.Key}"), grant.GrantId))
            : (grant, null);
    }

    /// <summary>
    /// Whether a grant may take the active grant's place: not older (grants are ordered by <c>issuedAt</c>, to the
    /// second, and one replaced in the active grant's second never comes back), and for a delegation, not over a grant
    /// its signer could not have issued.
    /// </summary>
    private Failure? CannotReplace(GrantDocument grant)
    {
        if (permissions.Active is { } active && !active.HasContent(grant.Envelope.ContentHash))
        {
            if (grant.IssuedAt < active.IssuedAt)
            {
                return new Failure(ReasonCodes.Stale, $"issued {DocumentTime.ToText(grant.IssuedAt)}, before the active grant {active.GrantId} ({DocumentTime.ToText(active.IssuedAt)})");
            }

            if (grant.IssuedAt == active.IssuedAt &&
                (State.ReplacedInActiveSecond.Contains(grant.GrantId, StringComparer.Ordinal) || State.PreviousGrantIds.Contains(grant.GrantId, StringComparer.Ordinal)))
            {
                return new Failure(ReasonCodes.Stale, $"grant {grant.GrantId} was replaced on this agent already");
            }

            if (grant.IssuedAt == active.IssuedAt && State.ReplacedInActiveSecond.Count >= MaxReplacementsInOneSecond)
            {
                return new Failure(ReasonCodes.Stale, $"{MaxReplacementsInOneSecond} grants issued in one second have replaced each other on this agent; issue the next one a second later");
            }
        }

        return grant.ParentGrantId is null ? null : DelegationCannotReplace(grant);
    }

    /// <summary>
    /// A delegation gives an agent what its delegator holds; it never takes from an agent what someone else gave it. So a
    /// delegated grant is applied only to an agent that has never held a grant, or whose grant is a delegation signed by
    /// the same key (a delegator renewing its own delegation). A grant from a root or admin, or from another delegator,
    /// stays until a root or admin of the tenant replaces it.
    /// </summary>
    private Failure? DelegationCannotReplace(GrantDocument delegation)
    {
        var current = permissions.Active;
        if (!State.HasGrantDocument || (current?.ParentGrantId is not null && current.SignedBy == delegation.SignedBy.Value))
        {
            return null;
        }

        var issuedBy = current is null ? "a grant that failed to load"
            : current.ParentGrantId is null ? $"grant {current.GrantId}, signed by {current.SignedBy} for the tenant"
            : $"grant {current.GrantId}, delegated by {current.SignedBy}";
        return new Failure(ReasonCodes.Escalation, $"{agent.Key} holds {issuedBy}; a delegation by {delegation.SignedBy.Value} replaces only its own delegations: a root or admin must replace it");
    }

    private static async Task<Failure?> VerifyAsync(Task<GrantVerification> verification) =>
        await verification is { Accepted: false } refused ? new Failure(refused.Error!, refused.Message!) : null;

    /// <summary>
    /// Loads a stored grant. It was fully verified when applied; form, signature and addressee are checked again against
    /// storage altered behind the cluster's back. A grant that fails makes the agent deny everything.
    /// </summary>
    private ActiveGrant? LoadStored(string stored, string what, bool elevation)
    {
        var parsed = GrantDocument.Parse(stored);
        var failure = !parsed.TryGetValue(out var grant) ? parsed.Failure
            : DocumentChecks.Signature(grant.Envelope)
            ?? (grant.TenantId != agent.TenantId || grant.AgentId != agent.AgentId ? new Failure(ReasonCodes.AgentMismatch, "the stored grant names another agent") : null);
        if (failure is null && elevation)
        {
            return ActiveGrant.CompileElevation(grant!, agent.Options.ClockSkew);
        }

        if (failure is null)
        {
            // The text read back stays exactly what storage gave (compared whole); only how memory holds it changes.
            var active = ActiveGrant.Compile(grant!, agent.Options.ClockSkew);
            if (Rebuilt(grant!, active, stored) is { } rebuilt)
            {
                State.HoldRebuilt(rebuilt);
            }

            SharedStrings.Tenants.For(agent.TenantId); // a verified grant's tenant: the agents activated after share its id
            return active;
        }

        permissions.Problem = $"the stored {what} failed verification ({failure.Code}); apply a grant again";
        Log.StoredGrantRejected(agent.Logger, agent.Key, failure.Message);
        return null;
    }

    /// <summary>
    /// The form that rebuilds <paramref name="text"/>, or null to hold it compressed: the compact form is a saving, never a
    /// reason to refuse a grant or fail an activation, so whatever goes wrong making it falls back (and is logged).
    /// </summary>
    private RebuiltGrantText? Rebuilt(GrantDocument grant, ActiveGrant active, string text)
    {
        try
        {
            return RebuiltGrantText.For(grant, active, agent.AgentId, text);
        }
        catch (Exception e)
        {
            Log.GrantTextNotRebuilt(agent.Logger, e, agent.Key);
            return null;
        }
    }

    /// <summary>
    /// Refuses a grant, with its event when it belongs in the tenant's log: for an agent that holds or held a grant, or
    /// for a signed grant its tenant's issuer judged. Junk that names no real tenant is only counted.
    /// </summary>
    private async Task<ApplyGrantResult> RefuseAsync(ApplyGrantResult refusal, GrantDocument? grant)
    {
        Log.GrantRefused(agent.Logger, agent.Key, refusal.Error!, refusal.Message!);
        agent.Metrics.RecordRefusedGrant(refusal.Error!);
        if (audit.IsAudited || (grant is not null && refusal.Error is not (ReasonCodes.UnknownTenant or ReasonCodes.TenantMismatch or ReasonCodes.AgentMismatch)))
        {
            await audit.PublishAsync(agent.Administrative(SecurityEventTypes.GrantRefused, grant?.GrantId, grant?.SignedBy.Value, refusal.Error, refusal.Message));
        }

        return refusal;
    }

    private ApplyGrantResult Applied(string grantId, bool unchanged) =>
        new() { Applied = true, Agent = agent.Key, GrantId = grantId, Version = State.Version, Unchanged = unchanged };

    private ApplyGrantResult Refused(Failure failure, string? grantId = null) =>
        ApplyGrantResult.Refused(agent.Key, failure.Code, failure.Message, grantId);
}

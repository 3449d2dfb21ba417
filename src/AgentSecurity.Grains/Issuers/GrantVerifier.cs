using AgentSecurity.Abstractions;
using AgentSecurity.Abstractions.Kernel;
using AgentSecurity.Abstractions.Audit;
using AgentSecurity.Grains.Outbox;
using AgentSecurity.Grants;
using AgentSecurity.Grants.Capabilities;
using AgentSecurity.Grants.Documents;
using AgentSecurity.Grants.Policy;
using AgentSecurity.Grants.Verification;

namespace AgentSecurity.Grains.Issuers;

/// <summary>
/// Whether a grant may take effect for an agent of the tenant, and the record of those that may. A grant is signed by a
/// root, by an admin within its ceiling, or (a delegation) by its parent's agent within the parent; the tenant has room
/// for it; it is not revoked, replayed, or outside its time window.
/// </summary>
internal sealed class GrantVerifier(
    StateOutbox<IssuerGrainState> outbox,
    TrustAdministration tenant,
    LimitsAdministration limits,
    IGrainFactory grains,
    PlatformLimits platform,
    TimeProvider time,
    AgentSecurityOptions options,
    string tenantId)
{
    /// <summary>The contract's bound on delegation chains.</summary>
    public const int MaxChainDepth = 8;

    private IssuerGrainState State => outbox.State;

    public static GrantVerification Refuse(Failure failure) => GrantVerification.Refuse(failure.Code, failure.Message);

    /// <summary>Verifies a grant and records it before the answer.</summary>
    public async Task<GrantVerification> VerifyAsync(string signedGrant)
    {
        var parsed = GrantDocument.Parse(signedGrant);
        if (!parsed.TryGetValue(out var grant))
        {
            return Refuse(parsed.Failure);
        }

        var verified = await CheckAsync(grant, time.GetUtcNow());
        if (!verified.TryGetValue(out var depth))
        {
            return Refuse(verified.Failure);
        }

        if (State.AcceptedGrants.ContainsKey(grant.GrantId))
        {
            return GrantVerification.Accept; // the identical grant again: nothing new to record
        }

        return await RecordAsync(grant, depth);
    }

    /// <summary>Every rule a grant must meet, cheapest first; the grant's delegation depth when it passes.</summary>
    public async Task<Result<int>> CheckAsync(GrantDocument grant, DateTimeOffset now)
    {
        var trusted = tenant.TrustFor(grant.TenantId);
        if (!trusted.TryGetValue(out var trust))
        {
            return trusted.Failure;
        }

        if (State.RevokedGrants.TryGetValue(grant.GrantId, out var revoked))
        {
            // A revocation made ahead of use lasts until the grant it names would have expired, now known.
            if (revoked.ExpiresAt == DateTimeOffset.MaxValue && DocumentChecks.Signature(grant.Envelope) is null)
            {
                revoked.ExpiresAt = grant.ExpiresAt; // persisted with the next write; erring late is harmless
            }

            return new Failure(ReasonCodes.Revoked, $"grant {grant.GrantId} was revoked");
        }

        // The signature first: a grant altered after signing is bad_signature, whatever else is wrong with it.
        if (DocumentChecks.Signature(grant.Envelope) is { } badSignature)
        {
            return badSignature;
        }

        // A grant this tenant accepted before (re-applied, or signed by a root that has since rotated away) was
        // judged then; its time window is still checked.
        if (State.AcceptedGrants.TryGetValue(grant.GrantId, out var accepted))
        {
            if (!accepted.HasContent(grant.Envelope.ContentHash))
            {
                return new Failure(ReasonCodes.Replayed, $"grant id {grant.GrantId} was already used for a different grant");
            }

            return InTime(grant, now, accepted.Depth);
        }

        // Grant ids and access ids share the revocations: one id must never name both.
        if (State.AccessDocuments.ContainsKey(grant.GrantId))
        {
            return new Failure(ReasonCodes.Replayed, $"{grant.GrantId} is the id of an access document of this tenant; a grant needs an id of its own");
        }

        if (GrantLedger.CapacityFailure(State.AcceptedGrants.Values, grant.AgentId, now, options.MaxLiveGrantsPerTenant, limits.MaxAgents, tenantId) is { } full)
        {
            return full;
        }

        if (grant.ParentGrantId is { } parentId)
        {
            var delegation = await CheckDelegationAsync(grant, parentId, now);
            if (!delegation.TryGetValue(out var depth))
            {
                return delegation;
            }

            return InTime(grant, now, depth);
        }

        if (CheckSigner(grant, trust, now) is { } untrusted)
        {
            return untrusted;
        }

        return InTime(grant, now, depth: 1);
    }

    /// <summary>
    /// Records an accepted grant's id, pruning what has expired, together with what else the same write carries (the
    /// answered request of an elevation). Nothing changes if the write fails.
    /// </summary>
    public async Task<GrantVerification> RecordAsync(GrantDocument grant, int depth, Action<IssuerGrainState>? alongside = null, params SecurityEvent[] events)
    {
        var now = time.GetUtcNow();
        var recorded = await outbox.CommitAsync(
            s =>
            {
                GrantLedger.Accept(s, grant, depth, now);
                alongside?.Invoke(s);
            },
            events);
        return recorded ? GrantVerification.Accept : GrantVerification.Refuse(ReasonCodes.Unavailable, "the issuer could not record the grant");
    }

    /// <summary>Why a delegation may not take <paramref name="parent"/> further, if it may not.</summary>
    internal static Failure? ParentFailure(AcceptedGrant parent, string parentId, bool parentRevoked, GrantDocument grant, DateTimeOffset now)
    {
        if (parentRevoked)
        {
            return new Failure(ReasonCodes.Revoked, $"the parent grant {parentId} was revoked");
        }

        if (parent.ExpiresAt <= now)
        {
            return new Failure(ReasonCodes.Expired, $"the parent grant {parentId} expired at {DocumentTime.ToText(parent.ExpiresAt)}");
        }

        if (parent.AgentDid is null)
        {
            return new Failure(ReasonCodes.UntrustedSigner, $"the parent grant {parentId} names no agentDid, so it cannot be delegated");
        }

        if (parent.AgentDid != grant.SignedBy.Value)
        {
            return new Failure(ReasonCodes.UntrustedSigner, $"a delegation of {parentId} is signed by its agentDid {parent.AgentDid}, not {grant.SignedBy.Value}");
        }

        if (parent.Depth + 1 > MaxChainDepth)
        {
            return new Failure(ReasonCodes.ChainTooDeep, $"the chain would be {parent.Depth + 1} grants deep; at most {MaxChainDepth}");
        }

        return null;
    }

    private Result<int> InTime(GrantDocument grant, DateTimeOffset now, int depth) =>
        DocumentChecks.GrantTimeWindow(grant, now, options.ClockSkew) is { } outside ? outside : Result<int>.Ok(depth);

    /// <summary>A grant that is not a delegation is signed by a root, or by an admin within its ceiling and lifetime.</summary>
    private Failure? CheckSigner(GrantDocument grant, TenantTrust trust, DateTimeOffset now)
    {
        if (trust.IsRoot(grant.SignedBy))
        {
            return null;
        }

        if (trust.ActiveAdmin(grant.SignedBy, now) is not { } admin)
        {
            return trust.Untrusted(grant.SignedBy, now);
        }

        if (Attenuation.WithinCeiling(admin.Ceiling, admin.CeilingLimits, admin.CeilingTools, grant.Terms, platform) is { } beyond)
        {
            return beyond;
        }

        if (grant.ExpiresAt > admin.ExpiresAt)
        {
            return new Failure(ReasonCodes.Escalation, $"the grant outlives its admin's registration ({DocumentTime.ToText(admin.ExpiresAt)})");
        }

        return null;
    }

    /// <summary>
    /// A delegation is signed by its parent's agentDid, within the parent, from a parent that is live (accepted,
    /// not revoked, not expired, still its agent's active grant), at most <see cref="MaxChainDepth"/> grants deep.
    /// The delegation's depth when it is.
    /// </summary>
    private async Task<Result<int>> CheckDelegationAsync(GrantDocument grant, string parentId, DateTimeOffset now)
    {
        if (!State.AcceptedGrants.TryGetValue(parentId, out var parent))
        {
            return new Failure(ReasonCodes.UnknownGrant, $"the parent grant {parentId} is not a live grant of tenant {tenantId}");
        }

        if (ParentFailure(parent, parentId, State.RevokedGrants.ContainsKey(parentId), grant, now) is { } failure)
        {
            return failure;
        }

        // The parent's terms live with the parent's agent, the only holder of its active grant.
        var parentText = await grains.GetGrain<IAgentKernelGrain>(AgentKey.Of(tenantId, parent.AgentId)).GetActiveGrantAsync(parentId);
        if (parentText is null)
        {
            return new Failure(ReasonCodes.Stale, $"the parent grant {parentId} is no longer the active grant of {parent.AgentId}");
        }

        if (!GrantDocument.Parse(parentText).TryGetValue(out var parentGrant) || !parent.HasContent(parentGrant.Envelope.ContentHash))
        {
            return new Failure(ReasonCodes.Unavailable, $"the parent grant {parentId} held by {parent.AgentId} does not match what this tenant accepted");
        }

        if (Attenuation.WithinParent(parentGrant.Terms, grant.Terms, platform) is { } wider)
        {
            return wider;
        }

        return Result<int>.Ok(parent.Depth + 1);
    }
}

using AgentSecurity.Abstractions;
using AgentSecurity.Abstractions.Audit;
using AgentSecurity.Abstractions.Kernel;
using AgentSecurity.Grains.Outbox;
using AgentSecurity.Grains.Telemetry;
using AgentSecurity.Grants;
using AgentSecurity.Grants.Documents;
using Microsoft.Extensions.Logging;

namespace AgentSecurity.Grains.Issuers;

/// <summary>
/// Taking grants back: a revocation signed by the grant's signer, a root or an admin revokes the grant and everything
/// delegated from it, durably, then tells each agent holding one. Agents ask here whether what they hold still stands.
/// A revocation may also name an access document of the tenant (its access id), which ends it.
/// </summary>
internal sealed class Revocations(
    StateOutbox<IssuerGrainState> outbox,
    TrustAdministration tenant,
    IssuerEvents events,
    CallerChanges callers,
    IGrainFactory grains,
    TimeProvider time,
    AgentSecurityOptions options,
    string tenantId,
    ILogger logger)
{
    /// <summary>Revocations of grants never applied (kept until the grant shows up) per tenant.</summary>
    public const int MaxAdvanceRevocations = 10_000;

    private IssuerGrainState State => outbox.State;

    public async Task<RevocationResult> RevokeAsync(string signedRevocation)
    {
        var parsed = RevocationDocument.Parse(signedRevocation);
        if (!parsed.TryGetValue(out var revocation))
        {
            return await RefuseAsync(parsed.Failure, grantId: null, signer: null);
        }

        var now = time.GetUtcNow();
        var signer = revocation.Envelope.SignedBy.Value;
        if (Check(revocation, now) is { } failure)
        {
            return await RefuseAsync(failure, revocation.GrantId, signer);
        }

        // The grant and everything delegated from it, transitively, as far as this tenant accepted them.
        var revoked = GrantLedger.Descendants(State.AcceptedGrants, revocation.GrantId);
        var added = revoked.Where(id => !State.RevokedGrants.ContainsKey(id)).ToList();
        if (added.Count > 0)
        {
            var revokedEvents = added
                .Select(id => events.Make(SecurityEventTypes.GrantRevoked, State.AcceptedGrants.GetValueOrDefault(id)?.AgentId, id, signer, ReasonCodes.Revoked, revocation.Reason))
                .ToArray();
            if (!await outbox.CommitAsync(s => GrantLedger.Revoke(s, added, revocation.Reason, signer, now), revokedEvents))
            {
                return new RevocationResult { Error = ReasonCodes.Unavailable, Message = "the revocation could not be stored; nothing was revoked" };
            }
        }

        Log.GrantsRevoked(logger, tenantId, revocation.GrantId, revoked.Count, signer);
        var (agents, propagated) = await NotifyAgentsAsync(revoked);
        if (State.AccessDocuments.ContainsKey(revocation.GrantId))
        {
            propagated &= await callers.TellSilosAsync(); // an access document: every silo forgets its rights now
        }

        return new RevocationResult
        {
            Revoked = true,
            GrantIds = revoked,
            Agents = agents,
            Propagated = propagated,
            Error = propagated ? null : ReasonCodes.Unavailable,
            Message = propagated ? null : "the revocation is recorded, but some agents could not be told yet; they learn it when they next activate; revoke again to retry",
        };
    }

    /// <summary>For each grant an agent read back from storage: revoked, accepted with this content, or unknown here.</summary>
    public IReadOnlyList<StoredGrantStatus> ConfirmStoredGrants(IReadOnlyList<StoredGrantRef> grants) =>
        grants.Select(g => new StoredGrantStatus(g.GrantId, StatusOf(g))).ToArray();

    public IReadOnlyList<string> FindRevoked(IReadOnlyList<string> grantIds) =>
        grantIds.Where(State.RevokedGrants.ContainsKey).ToArray();

    private StoredGrantState StatusOf(StoredGrantRef grant)
    {
        if (State.RevokedGrants.ContainsKey(grant.GrantId))
        {
            return StoredGrantState.Revoked;
        }

        return State.AcceptedGrants.TryGetValue(grant.GrantId, out var accepted) && accepted.HasContent(grant.ContentHash)
            ? StoredGrantState.Accepted
            : StoredGrantState.Unknown;
    }

    private Failure? Check(RevocationDocument revocation, DateTimeOffset now)
    {
        var trusted = tenant.TrustFor(revocation.TenantId);
        if (!trusted.TryGetValue(out var trust))
        {
            return trusted.Failure;
        }

        var signer = revocation.Envelope.SignedBy;
        var target = State.AcceptedGrants.GetValueOrDefault(revocation.GrantId);
        var signedTheGrant = target is not null && target.SignedBy == signer.Value;
        if (!signedTheGrant && !trust.IsRootOrAdmin(signer, now))
        {
            return new Failure(ReasonCodes.UntrustedSigner, $"a revocation is signed by the grant's signer, a root or an admin; {signer.Value} is none of them");
        }

        if (TenantTrust.CheckSignatureAndTime(revocation.Envelope, now, options.ClockSkew) is { } invalid)
        {
            return invalid;
        }

        // A grant not applied yet (leaked before use, say) can be revoked ahead by a root or admin. Such an entry has
        // no expiry to go by until the grant shows up, so their number is bounded.
        if (target is null && !State.AccessDocuments.ContainsKey(revocation.GrantId) && !State.RevokedGrants.ContainsKey(revocation.GrantId) &&
            State.RevokedGrants.Values.Count(r => r.ExpiresAt == DateTimeOffset.MaxValue) >= MaxAdvanceRevocations)
        {
            return new Failure(ReasonCodes.QuotaExceeded, $"tenant {tenantId} holds {MaxAdvanceRevocations} revocations of grants never applied");
        }

        return null;
    }

    private async Task<RevocationResult> RefuseAsync(Failure failure, string? grantId, string? signer)
    {
        await tenant.RefuseAsync(failure, $"revocation of {grantId}", signer);
        return new RevocationResult { Error = failure.Code, Message = failure.Message };
    }

    /// <summary>Tells every agent holding one of the grants; the agents confirm with this issuer before acting.</summary>
    private async Task<(IReadOnlyList<string> Agents, bool Propagated)> NotifyAgentsAsync(IReadOnlyList<string> grantIds)
    {
        var targets = grantIds
            .Where(State.AcceptedGrants.ContainsKey)
            .Select(id => (Agent: AgentKey.Of(tenantId, State.AcceptedGrants[id].AgentId), GrantId: id))
            .ToList();
        var results = await Task.WhenAll(targets.Select(async t =>
        {
            try
            {
                await grains.GetGrain<IAgentKernelGrain>(t.Agent).NotifyRevokedAsync(t.GrantId);
                return true;
            }
#pragma warning disable CA1031 // An agent that cannot be told learns the revocation when it next activates.
            catch (Exception e)
#pragma warning restore CA1031
            {
                Log.RevocationNotDelivered(logger, e, tenantId, t.Agent, t.GrantId);
                return false;
            }
        }));
        return (targets.Select(t => t.Agent).Distinct().ToArray(), results.All(r => r));
    }
}

using AgentSecurity.Grants;
using AgentSecurity.Grants.Documents;

namespace AgentSecurity.Grains.Issuers;

/// <summary>
/// What the issuer remembers of grants: the ids it accepted, with their lineage, and the ids it revoked. Each entry lives
/// until its grant expires (after that the grant itself is refused as expired), so the records stay bounded by the
/// grants alive, and the tenant's capacity bounds those.
/// </summary>
internal static class GrantLedger
{
    /// <summary>Records an accepted grant, forgetting the accepted grants and revocations that have expired.</summary>
    public static void Accept(IssuerGrainState state, GrantDocument grant, int depth, DateTimeOffset now)
    {
        foreach (var id in state.AcceptedGrants.Where(p => p.Value.ExpiresAt <= now).Select(p => p.Key).ToList())
        {
            state.AcceptedGrants.Remove(id);
        }

        foreach (var id in state.RevokedGrants.Where(p => p.Value.ExpiresAt <= now).Select(p => p.Key).ToList())
        {
            state.RevokedGrants.Remove(id);
        }

        state.AcceptedGrants[grant.GrantId] = new AcceptedGrant
        {
            ContentHash = grant.Envelope.ContentHash,
            AgentId = grant.AgentId,
            ExpiresAt = grant.ExpiresAt,
            SignedBy = grant.SignedBy.Value,
            ParentGrantId = grant.ParentGrantId,
            AgentDid = grant.AgentDid?.Value,
            Depth = depth,
        };
    }

    /// <summary>
    /// Records the revocation of grants, each kept until the grant would have expired. A grant never accepted has no
    /// expiry to go by until it shows up, so its revocation is kept until then.
    /// </summary>
    public static void Revoke(IssuerGrainState state, IEnumerable<string> grantIds, string reason, string revokedBy, DateTimeOffset now)
    {
        foreach (var id in grantIds)
        {
            state.RevokedGrants[id] = new RevokedGrant
            {
                RevokedAt = now,
                ExpiresAt = state.AcceptedGrants.TryGetValue(id, out var grant) ? grant.ExpiresAt : AccessExpiry(state, id) ?? DateTimeOffset.MaxValue,
                Reason = reason,
                RevokedBy = revokedBy,
            };
        }
    }

    /// <summary>Until when an access document named by a revocation would have been in force: how long its revocation is kept.</summary>
    private static DateTimeOffset? AccessExpiry(IssuerGrainState state, string id) =>
        state.AccessDocuments.TryGetValue(id, out var text) && Grants.Documents.AccessDocument.Parse(text).TryGetValue(out var access) ? access.ExpiresAt : null;

    /// <summary>The grant and every grant delegated from it, transitively, as far as the tenant accepted them; the grant first.</summary>
    public static List<string> Descendants(IReadOnlyDictionary<string, AcceptedGrant> accepted, string grantId)
    {
        var result = new List<string> { grantId };
        var seen = new HashSet<string>(StringComparer.Ordinal) { grantId };
        for (var i = 0; i < result.Count; i++)
        {
            foreach (var (id, grant) in accepted)
            {
                if (grant.ParentGrantId == result[i] && seen.Add(id))
                {
                    result.Add(id);
                }
            }
        }

        return result;
    }

    /// <summary>
    /// Bounds on what one tenant can make the cluster keep, for a new grant to <paramref name="agentId"/>: live grants
    /// in all, and agents holding live grants (an agent that holds one already takes no more room).
    /// </summary>
    public static Failure? CapacityFailure(IEnumerable<AcceptedGrant> accepted, string agentId, DateTimeOffset now, int maxLiveGrants, long maxAgents, string tenantId)
    {
        var live = accepted.Where(g => g.ExpiresAt > now).ToList();
        if (live.Count >= maxLiveGrants)
        {
            return new Failure(ReasonCodes.QuotaExceeded, $"tenant {tenantId} has {live.Count} live grants, the most allowed");
        }

        var agents = live.Select(g => g.AgentId).ToHashSet(StringComparer.Ordinal);
        if (agents.Contains(agentId) || agents.Count < maxAgents)
        {
            return null;
        }

        return new Failure(ReasonCodes.QuotaExceeded, $"tenant {tenantId} has {agents.Count} agents with grants, the most its limits allow");
    }
}

using AgentSecurity.Abstractions;
using AgentSecurity.Abstractions.Audit;
using AgentSecurity.Grains.Outbox;
using AgentSecurity.Grains.Telemetry;
using AgentSecurity.Grants;
using AgentSecurity.Grants.Documents;
using AgentSecurity.Grants.Policy;
using Microsoft.Extensions.Logging;

namespace AgentSecurity.Grains.Issuers;

/// <summary>
/// Agents asking for more than their grant allows: a request waits for a root or admin to answer it with a new, short
/// grant made for it (an elevation), or expires. Answered and expired requests stay visible for a while.
/// </summary>
internal sealed class PermissionRequests(
    StateOutbox<IssuerGrainState> outbox,
    TrustAdministration tenant,
    GrantVerifier grants,
    IssuerEvents events,
    TimeProvider time,
    AgentSecurityOptions options,
    string tenantId,
    ILogger logger)
{
    private IssuerGrainState State => outbox.State;

    public async Task<PermissionRequestResult> RecordAsync(string agentId, PermissionRequestInput request)
    {
        var now = time.GetUtcNow();
        if (tenant.Trust is null)
        {
            return new PermissionRequestResult { Error = ReasonCodes.UnknownTenant, Message = $"tenant {tenantId} does not exist" };
        }

        Expire(State.Requests, now, options.MaxPendingRequestsPerTenant);
        var pending = State.Requests.Where(r => r.Status == PermissionRequestStatus.Pending).ToList();
        // Asking again for what already waits (an agent retrying a tool that needs approval) finds the same request:
        // retries must neither fill the agent's quota of open requests nor the admins' queue.
        if (pending.Find(r => r.AgentId == agentId && r.Capability == request.Capability && r.Resource == request.Resource) is { } waiting)
        {
            return new PermissionRequestResult { Recorded = true, RequestId = waiting.RequestId, ExpiresAt = waiting.ExpiresAt };
        }

        if (pending.Count(r => r.AgentId == agentId) >= options.MaxPendingRequestsPerAgent || pending.Count >= options.MaxPendingRequestsPerTenant)
        {
            return new PermissionRequestResult { Error = ReasonCodes.QuotaExceeded, Message = "too many open permission requests; wait for answers or expiry" };
        }

        var record = new PermissionRequestRecord
        {
            RequestId = $"req-{State.NextRequestNumber}",
            AgentId = agentId,
            Capability = request.Capability,
            Resource = request.Resource,
            Justification = request.Justification,
            RequestedAt = now,
            ExpiresAt = now + options.PermissionRequestLifetime,
            Status = PermissionRequestStatus.Pending,
        };
        var created = events.Make(SecurityEventTypes.RequestCreated, agentId, message: $"{record.RequestId}: {request.Justification}") with { Capability = request.Capability, Resource = request.Resource };
        if (!await outbox.CommitAsync(s => { s.Requests.Add(record); s.NextRequestNumber++; }, created))
        {
            return new PermissionRequestResult { Error = ReasonCodes.Unavailable, Message = "the request could not be stored" };
        }

        Log.PermissionRequested(logger, tenantId, record.RequestId, agentId, request.Capability);
        return new PermissionRequestResult { Recorded = true, RequestId = record.RequestId, ExpiresAt = record.ExpiresAt };
    }

    /// <summary>Newest first.</summary>
    public IReadOnlyList<PermissionRequestInfo> List()
    {
        Expire(State.Requests, time.GetUtcNow(), options.MaxPendingRequestsPerTenant);
        return State.Requests.OrderByDescending(r => r.RequestedAt).Select(r => new PermissionRequestInfo
        {
            RequestId = r.RequestId,
            AgentId = r.AgentId,
            Capability = r.Capability,
            Resource = r.Resource,
            Justification = r.Justification,
            RequestedAt = r.RequestedAt,
            ExpiresAt = r.ExpiresAt,
            Status = r.Status,
            GrantId = r.GrantId,
        }).ToArray();
    }

    /// <summary>Verifies a grant that answers an open request, and records both in one write.</summary>
    public async Task<GrantVerification> AnswerAsync(string requestId, string signedGrant)
    {
        var parsed = GrantDocument.Parse(signedGrant);
        if (!parsed.TryGetValue(out var grant))
        {
            return GrantVerifier.Refuse(parsed.Failure);
        }

        var now = time.GetUtcNow();
        if (State.Requests.Find(r => r.RequestId == requestId) is not { } request || request.Status != PermissionRequestStatus.Pending || request.ExpiresAt <= now)
        {
            return GrantVerifier.Refuse(new Failure(ReasonCodes.UnknownRequest, $"no open permission request {requestId} in tenant {tenantId}"));
        }

        if (CheckAnswer(request, grant, State.AcceptedGrants.ContainsKey(grant.GrantId), options.MaxElevationLifetime) is { } failure)
        {
            return GrantVerifier.Refuse(failure);
        }

        var verified = await grants.CheckAsync(grant, now);
        if (!verified.TryGetValue(out var depth))
        {
            return GrantVerifier.Refuse(verified.Failure);
        }

        var approved = events.Make(SecurityEventTypes.RequestApproved, grant.AgentId, grant.GrantId, grant.SignedBy.Value, ReasonCodes.Allowed, $"{requestId} answered by {grant.GrantId}")
            with { Capability = request.Capability, Resource = request.Resource };
        var verification = await grants.RecordAsync(grant, depth, s => Approve(s, requestId, grant.GrantId), approved);
        if (verification.Accepted)
        {
            Log.RequestApproved(logger, tenantId, requestId, grant.AgentId, grant.GrantId);
        }

        return verification;
    }

    /// <summary>
    /// An answer is a new grant, issued after the request, for the agent that asked, signed by a root or admin (not
    /// delegated), short-lived, and within what was asked.
    /// </summary>
    internal static Failure? CheckAnswer(PermissionRequestRecord request, GrantDocument grant, bool grantAccepted, TimeSpan maxLifetime)
    {
        if (request.AgentId != grant.AgentId)
        {
            return new Failure(ReasonCodes.AgentMismatch, $"request {request.RequestId} is from agent {request.AgentId}, the grant is for {grant.AgentId}");
        }

        if (grant.ParentGrantId is not null)
        {
            return new Failure(ReasonCodes.InvalidField, "an answer to a permission request is signed by a root or admin, not delegated");
        }

        if (grantAccepted || grant.IssuedAt < DocumentTime.WholeSeconds(request.RequestedAt))
        {
            return new Failure(ReasonCodes.Stale, "an answer to a permission request is a new grant, issued after the request");
        }

        if (grant.ExpiresAt - grant.NotBefore > maxLifetime)
        {
            return new Failure(ReasonCodes.Escalation, $"an answer to a permission request lasts at most {maxLifetime}");
        }

        if (!CheckKinds.TryParse(request.Capability, out var kind))
        {
            return new Failure(ReasonCodes.UnknownCapability, $"request {request.RequestId} names no known capability");
        }

        return Attenuation.WithinRequest(kind, request.Resource, grant.Terms);
    }

    /// <summary>
    /// Marks pending requests past their time expired, and forgets the oldest closed ones beyond
    /// <paramref name="closedKept"/>: answered and expired requests stay visible for a while, bounded like the open ones.
    /// Applied to the current state, not as a change: persisted with the next write, and reads agree meanwhile.
    /// </summary>
    internal static void Expire(List<PermissionRequestRecord> requests, DateTimeOffset now, int closedKept)
    {
        foreach (var request in requests.Where(r => r.Status == PermissionRequestStatus.Pending && r.ExpiresAt <= now))
        {
            request.Status = PermissionRequestStatus.Expired;
        }

        var forgotten = requests.Where(r => r.Status != PermissionRequestStatus.Pending).OrderByDescending(r => r.RequestedAt).Skip(closedKept).ToHashSet();
        requests.RemoveAll(forgotten.Contains);
    }

    // A change is made on a copy of the state: the request to approve is the copy's, found again by id.
    private static void Approve(IssuerGrainState state, string requestId, string grantId)
    {
        if (state.Requests.Find(r => r.RequestId == requestId) is { } request)
        {
            request.Status = PermissionRequestStatus.Approved;
            request.GrantId = grantId;
        }
    }
}

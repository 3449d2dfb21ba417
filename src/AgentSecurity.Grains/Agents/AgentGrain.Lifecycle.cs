using AgentSecurity.Abstractions;
using AgentSecurity.Abstractions.Audit;
using AgentSecurity.Grains.Memory;
using AgentSecurity.Grains.Telemetry;
using AgentSecurity.Grants;
using AgentSecurity.Grants.Capabilities;
using AgentSecurity.Grants.Documents;
using AgentSecurity.Grants.Policy;
using AgentSecurity.Grants.Quotas;
using AgentSecurity.Grants.Verification;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace AgentSecurity.Grains.Agents;

/// <summary>Quarantine and permission requests.</summary>
public sealed partial class AgentGrain
{
    public async Task<QuarantineResult> QuarantineAsync(string signedQuarantine)
    {
        var parsed = QuarantineDocument.Parse(signedQuarantine ?? string.Empty);
        var document = parsed.Succeeded ? parsed.Value : null;
        var failure = parsed.Failure
            ?? KeyFailure()
            ?? (document!.TenantId != _tenantId ? new Failure(ReasonCodes.TenantMismatch, $"the document is for tenant {document.TenantId}, not {_tenantId}") : null)
            ?? (document.AgentId != _agentId ? new Failure(ReasonCodes.AgentMismatch, $"the document is for agent {document.AgentId}, not {_agentId}") : null)
            ?? (State.QuarantineIssuedAt is { } last && document.Envelope.IssuedAt <= last
                ? new Failure(ReasonCodes.Stale, $"issued {DocumentTime.ToText(document.Envelope.IssuedAt)}, not after the last quarantine document ({DocumentTime.ToText(last)})")
                : null);
        if (failure is null)
        {
            var verification = await Issuer.VerifyQuarantineAsync(signedQuarantine!);
            failure = verification.Accepted ? null : new Failure(verification.Error!, verification.Message!);
        }

        if (failure is not null)
        {
            return new QuarantineResult { Agent = _key, State = State.State, Error = failure.Code, Message = failure.Message };
        }

        var newState = document!.Quarantine ? AgentState.Quarantined : AgentState.Active;
        var before = (State.State, State.QuarantineReason, State.QuarantineIssuedAt);
        var written = await CommitAsync(
            s => (s.State, s.QuarantineReason, s.QuarantineIssuedAt) = (newState, document.Reason, document.Envelope.IssuedAt),
            s => (s.State, s.QuarantineReason, s.QuarantineIssuedAt) = before,
            Administrative(document.Quarantine ? SecurityEventTypes.AgentQuarantined : SecurityEventTypes.AgentReleased, signer: document.Envelope.SignedBy.Value, reason: document.Quarantine ? ReasonCodes.Quarantined : ReasonCodes.Allowed, message: document.Reason));
        if (!written)
        {
            return new QuarantineResult { Agent = _key, State = State.State, Error = ReasonCodes.Unavailable, Message = "the quarantine could not be stored" };
        }

        _permissions.State = newState;
        if (newState == AgentState.Quarantined)
        {
            StopExecutions(ReasonCodes.Quarantined, $"{_key} was quarantined: {document.Reason}");
        }

        Log.QuarantineChanged(_logger, _key, newState.ToString(), document.Reason);
        return new QuarantineResult { Accepted = true, Agent = _key, State = newState };
    }

    public async Task<QuarantineResult> QuarantineByRuleAsync(string rule, string reason)
    {
        if (!_validKey || State.State == AgentState.Quarantined)
        {
            return new QuarantineResult { Accepted = State.State == AgentState.Quarantined, Agent = _key, State = State.State };
        }

        // Dated now: only a release issued after the rule fired lifts it, so no older release can be replayed.
        var now = DocumentTime.WholeSeconds(_time.GetUtcNow());
        var before = (State.State, State.QuarantineReason, State.QuarantineIssuedAt);
        var written = await CommitAsync(
            s => (s.State, s.QuarantineReason, s.QuarantineIssuedAt) = (AgentState.Quarantined, $"detection rule {rule}: {reason}", now),
            s => (s.State, s.QuarantineReason, s.QuarantineIssuedAt) = before,
            Administrative(SecurityEventTypes.AgentQuarantined, reason: ReasonCodes.Quarantined, message: $"detection rule {rule}: {reason}"));
        if (!written)
        {
            return new QuarantineResult { Agent = _key, State = State.State, Error = ReasonCodes.Unavailable, Message = "the quarantine could not be stored" };
        }

        _permissions.State = AgentState.Quarantined;
        StopExecutions(ReasonCodes.Quarantined, $"{_key} was quarantined by detection rule {rule}");
        Log.QuarantineChanged(_logger, _key, nameof(AgentState.Quarantined), rule);
        return new QuarantineResult { Accepted = true, Agent = _key, State = AgentState.Quarantined };
    }

    public async Task<PermissionRequestResult> RequestPermissionAsync(PermissionRequestInput request)
    {
        var failure = KeyFailure()
            ?? (request is null || !CheckKinds.TryParse(request.Capability, out var kind)
                ? new Failure(ReasonCodes.UnknownCapability, $"\"{request?.Capability}\" is not a capability")
                : request.Resource is not null && kind.ResourceKindOf() is { } resourceKind && !ResourceNames.IsNormal(request.Resource, resourceKind)
                    ? new Failure(ReasonCodes.InvalidResource, $"\"{request.Resource}\" is not in normal form")
                    : string.IsNullOrWhiteSpace(request.Justification) || request.Justification.Length > MaxJustificationLength || request.Justification.Any(char.IsControl)
                        ? new Failure(ReasonCodes.InvalidRequest, $"a justification is 1 to {MaxJustificationLength} characters without control characters")
                        : null);
        if (failure is not null)
        {
            return new PermissionRequestResult { Error = failure.Code, Message = failure.Message };
        }

        if (_permissions.Decide(new CheckRequest(request!.Capability, request.Resource), _time.GetUtcNow(), _key).Allowed)
        {
            return new PermissionRequestResult { AlreadyAllowed = true, Message = $"{_key} may already do this" };
        }

        return await Issuer.RecordRequestAsync(_agentId, request);
    }
}

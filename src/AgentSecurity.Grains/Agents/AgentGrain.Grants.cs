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

/// <summary>Grants: apply, elevations, revocation notices, delegation lookups.</summary>
public sealed partial class AgentGrain
{
    public async Task<ApplyGrantResult> ApplyGrantAsync(string signedGrant)
    {
        var (grant, refusal) = Admit(signedGrant);
        var active = _permissions.Active;
        if (grant is not null && active is not null && active.ContentHash != grant.Envelope.ContentHash)
        {
            if (grant.IssuedAt < active.IssuedAt)
            {
                refusal = Refused(ReasonCodes.Stale, $"issued {DocumentTime.ToText(grant.IssuedAt)}, before the active grant {active.GrantId} ({DocumentTime.ToText(active.IssuedAt)})", grant.GrantId);
            }
            else if (grant.IssuedAt == active.IssuedAt &&
                (State.ReplacedInActiveSecond.Contains(grant.GrantId, StringComparer.Ordinal) || State.PreviousGrantIds.Contains(grant.GrantId, StringComparer.Ordinal)))
            {
                // Issued in the same second as the grant that replaced it: still a step back.
                refusal = Refused(ReasonCodes.Stale, $"grant {grant.GrantId} was replaced on this agent already", grant.GrantId);
            }
            else if (grant.IssuedAt == active.IssuedAt && State.ReplacedInActiveSecond.Count >= MaxReplacementsInOneSecond)
            {
                refusal = Refused(ReasonCodes.Stale, $"{MaxReplacementsInOneSecond} grants issued in one second have replaced each other on this agent; issue the next one a second later", grant.GrantId);
            }
        }

        if (refusal is null && grant!.ParentGrantId is not null && DelegationCannotReplace(grant) is { } notTheirs)
        {
            refusal = Refused(ReasonCodes.Escalation, notTheirs, grant.GrantId);
        }

        if (refusal is null)
        {
            var verification = await Issuer.VerifyGrantAsync(signedGrant!);
            refusal = verification.Accepted ? null : Refused(verification.Error!, verification.Message!, grant!.GrantId);
        }

        if (refusal is not null)
        {
            return await RefuseAsync(refusal, grant);
        }

        if (_permissions.Active?.ContentHash == grant!.Envelope.ContentHash)
        {
            return Applied(grant.GrantId, unchanged: true);
        }

        var previous = _permissions.Active;
        var replacedInSecond = State.ReplacedInActiveSecond.ToList();
        var written = await CommitAsync(
            s =>
            {
                s.ReplacedInActiveSecond = previous is not null && previous.IssuedAt == grant.IssuedAt ? [.. replacedInSecond, previous.GrantId] : [];
                if (previous is not null)
                {
                    s.PreviousGrantIds.Insert(0, previous.GrantId);
                    s.PreviousGrantIds.RemoveRange(Math.Min(s.PreviousGrantIds.Count, _options.GrantHistoryLength), Math.Max(0, s.PreviousGrantIds.Count - _options.GrantHistoryLength));
                }

                s.GrantDocument = grant.Envelope.CanonicalText;
                s.Version++;
            },
            s =>
            {
                s.ReplacedInActiveSecond = replacedInSecond;
                s.GrantDocument = previous?.CanonicalText;
                s.Version--;
                if (previous is not null)
                {
                    s.PreviousGrantIds.RemoveAt(0);
                }
            },
            Administrative(SecurityEventTypes.GrantApplied, grant.GrantId, grant.SignedBy.Value, ReasonCodes.Allowed, previous is null ? "first grant" : $"replaces {previous.GrantId}"));
        if (!written)
        {
            return await RefuseAsync(Refused(ReasonCodes.Unavailable, "the grant could not be stored; the previous grant stays in force", grant.GrantId), grant);
        }

        _permissions.Active = ActiveGrant.Compile(grant, _options.ClockSkew);
        _permissions.Problem = null;
        ReviewExecutions(_permissions.Active);
        // Consumption carries over to the new grant's limits: a new grant is not a fresh budget.
        _quotas.Configure(grant.Limits, _quotas.Snapshot(_time.GetUtcNow()).ToDictionary(s => s.Limit, s => s.Record));
        Log.GrantApplied(_logger, grant.GrantId, _key, State.Version, grant.SignedBy.Value);
        AgentSecurityMetrics.GrantsApplied.Add(1);
        return Applied(grant.GrantId, unchanged: false);
    }

    public async Task<ApplyGrantResult> ApplyElevationAsync(string requestId, string signedGrant)
    {
        var (grant, refusal) = Admit(signedGrant);
        if (refusal is null)
        {
            var verification = await Issuer.VerifyElevationAsync(requestId ?? string.Empty, signedGrant!);
            refusal = verification.Accepted ? null : Refused(verification.Error!, verification.Message!, grant!.GrantId);
        }

        if (refusal is not null)
        {
            return await RefuseAsync(refusal, grant);
        }

        var now = _time.GetUtcNow();
        var kept = _permissions.Elevations.Where(e => e.ExpiresAt > now).TakeLast(MaxElevations - 1).ToList();
        var before = State.Elevations.ToList();
        var written = await CommitAsync(
            s => s.Elevations = [.. kept.Select(e => e.CanonicalText), grant!.Envelope.CanonicalText],
            s => s.Elevations = before,
            Administrative(SecurityEventTypes.GrantApplied, grant!.GrantId, grant.SignedBy.Value, ReasonCodes.Allowed, $"elevation answering {requestId}"));
        if (!written)
        {
            return await RefuseAsync(Refused(ReasonCodes.Unavailable, "the elevation could not be stored", grant!.GrantId), grant);
        }

        _permissions.SetElevations([.. kept, ActiveGrant.Compile(grant!, _options.ClockSkew)]);
        Log.GrantApplied(_logger, grant!.GrantId, _key, State.Version, grant.SignedBy.Value);
        return Applied(grant.GrantId, unchanged: false);
    }

    public async Task NotifyRevokedAsync(string grantId)
    {
        // Confirmed with the issuer, so a stray call cannot deny an agent anything that was not really revoked. The
        // id is kept even if the agent does not hold that grant yet: an apply of it may be storing right now.
        if (_permissions.IsRevoked(grantId))
        {
            return;
        }

        if ((await Issuer.FindRevokedAsync([grantId])).Count > 0)
        {
            _permissions.MarkRevoked(grantId);
            if (_permissions.IsActiveRevoked)
            {
                StopExecutions(ReasonCodes.Revoked, $"grant {grantId} was revoked");
            }

            Log.AgentGrantRevoked(_logger, _key, grantId);
        }
    }

    /// <summary>Only an agent in good standing has a grant that can be delegated: not quarantined, not revoked.</summary>
    public Task<string?> GetActiveGrantAsync(string grantId) => Task.FromResult(
        _permissions.Active is { } active && active.GrantId == grantId && !_permissions.IsRevoked(grantId) &&
        _permissions.State == AgentState.Active && _permissions.Problem is null
            ? active.CanonicalText
            : null);

    /// <summary>
    /// A delegation gives an agent what its delegator holds; it never takes from an agent what someone else gave it. So a
    /// delegated grant is applied only to an agent that has never held a grant, or whose grant is a delegation signed by
    /// the same key (a delegator renewing its own delegation). A grant from a root or admin, or from another delegator,
    /// stays until a root or admin of the tenant replaces it. The reason why not, or null.
    /// </summary>
    private string? DelegationCannotReplace(GrantDocument delegation)
    {
        if (State.GrantDocument is null)
        {
            return null;
        }

        var current = _permissions.Active;
        if (current is not null && current.ParentGrantId is not null && current.SignedBy == delegation.SignedBy.Value)
        {
            return null;
        }

        var issuedBy = current is null ? "a grant that failed to load"
            : current.ParentGrantId is null ? $"grant {current.GrantId}, signed by {current.SignedBy} for the tenant"
            : $"grant {current.GrantId}, delegated by {current.SignedBy}";
        return $"{_key} holds {issuedBy}; a delegation by {delegation.SignedBy.Value} replaces only its own delegations: a root or admin must replace it";
    }

    /// <summary>The checks an agent makes itself before asking the issuer: form, and that the grant is for this agent.</summary>
    private (GrantDocument? Grant, ApplyGrantResult? Refusal) Admit(string? signedGrant)
    {
        if (KeyFailure() is { } bad)
        {
            return (null, Refused(bad.Code, bad.Message));
        }

        var parsed = GrantDocument.Parse(signedGrant ?? string.Empty);
        if (!parsed.Succeeded)
        {
            return (null, Refused(parsed.Failure!.Code, parsed.Failure.Message));
        }

        var grant = parsed.Value;
        return grant.TenantId != _tenantId
            ? (grant, Refused(ReasonCodes.TenantMismatch, $"the grant is for tenant {grant.TenantId}, not {_tenantId}", grant.GrantId))
            : grant.AgentId != _agentId
                ? (grant, Refused(ReasonCodes.AgentMismatch, $"the grant is for agent {grant.TenantId}/{grant.AgentId}, not {_key}", grant.GrantId))
                : (grant, null);
    }

    private Failure? KeyFailure() => _validKey ? null : new Failure(ReasonCodes.InvalidField, $"\"{_key}\" is not an agent key (tenant/agent)");

    /// <summary>
    /// Loads a stored grant. It was fully verified when applied; form, signature and addressee are checked again
    /// against storage altered behind the cluster's back. A grant that fails makes the agent deny everything.
    /// </summary>
    private ActiveGrant? LoadStored(string stored, string what)
    {
        var parsed = GrantDocument.Parse(stored);
        var failure = !parsed.Succeeded ? parsed.Failure
            : DocumentChecks.Signature(parsed.Value.Envelope)
            ?? (parsed.Value.TenantId != _tenantId || parsed.Value.AgentId != _agentId
                ? new Failure(ReasonCodes.AgentMismatch, "the stored grant names another agent")
                : null);
        if (failure is null)
        {
            return ActiveGrant.Compile(parsed.Value, _options.ClockSkew);
        }

        _permissions.Problem = $"the stored {what} failed verification ({failure.Code}); apply a grant again";
        Log.StoredGrantRejected(_logger, _key, failure.Message);
        return null;
    }

    /// <summary>
    /// Refuses a grant, with its event when it belongs in the tenant's log: for an agent that holds or held a grant,
    /// or for a signed grant its tenant's issuer judged. Junk that names no real tenant is only counted.
    /// </summary>
    private async Task<ApplyGrantResult> RefuseAsync(ApplyGrantResult refusal, GrantDocument? grant)
    {
        Log.GrantRefused(_logger, _key, refusal.Error!, refusal.Message!);
        AgentSecurityMetrics.RecordRefusedGrant(refusal.Error!);
        if (Audited || (grant is not null && refusal.Error is not (ReasonCodes.UnknownTenant or ReasonCodes.TenantMismatch or ReasonCodes.AgentMismatch)))
        {
            await PublishUnconditionallyAsync(Administrative(SecurityEventTypes.GrantRefused, grant?.GrantId, grant?.SignedBy.Value, refusal.Error, refusal.Message));
        }

        return refusal;
    }

    private ApplyGrantResult Applied(string grantId, bool unchanged) =>
        new() { Applied = true, Agent = _key, GrantId = grantId, Version = State.Version, Unchanged = unchanged };

    private ApplyGrantResult Refused(string error, string message, string? grantId = null) =>
        ApplyGrantResult.Refused(_key, error, message, grantId);
}

using AgentSecurity.Abstractions;
using AgentSecurity.Grains.Telemetry;
using AgentSecurity.Grants;
using AgentSecurity.Grants.Documents;
using AgentSecurity.Grants.Policy;
using AgentSecurity.Grants.Verification;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace AgentSecurity.Grains.Agents;

/// <summary>
/// One agent: the single writer of its grant, elevations and status, and the decision point of its checks. Grants are
/// verified once, by the tenant's issuer, when applied (and re-verified when loaded from storage); a check is a
/// lookup in memory.
/// </summary>
public sealed class AgentGrain : Grain, IAgentGrain
{
    private const int MaxElevations = 8;
    private const int MaxJustificationLength = 512;

    private readonly IPersistentState<AgentGrainState> _state;
    private readonly TimeProvider _time;
    private readonly AgentSecurityOptions _options;
    private readonly ILogger<AgentGrain> _logger;
    private readonly AgentPermissions _permissions = new();

    private string _key = string.Empty;
    private string _tenantId = string.Empty;
    private string _agentId = string.Empty;
    private bool _validKey;

    public AgentGrain(
        [PersistentState("agent", StorageNames.Grains)] IPersistentState<AgentGrainState> state,
        [FromKeyedServices(KernelClock.ServiceKey)] TimeProvider time,
        IOptions<AgentSecurityOptions> options,
        ILogger<AgentGrain> logger)
    {
        _state = state;
        _time = time;
        _options = options.Value;
        _logger = logger;
    }

    private AgentGrainState State => _state.State;

    private IGrantIssuerGrain Issuer => GrainFactory.GetGrain<IGrantIssuerGrain>(_tenantId);

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        _key = this.GetPrimaryKeyString();
        _validKey = AgentKey.TryParse(_key, out _tenantId, out _agentId);
        _permissions.State = State.State;
        if (State.GrantDocument is { } stored)
        {
            _permissions.Active = LoadStored(stored, "grant");
        }

        _permissions.SetElevations(State.Elevations.Select(e => LoadStored(e, "elevation")).OfType<ActiveGrant>());

        // Revocations are kept by the issuer; learn the ones made while this agent was not active.
        var held = _permissions.GrantIds.ToArray();
        if (held.Length > 0)
        {
            foreach (var revoked in await Issuer.FindRevokedAsync(held))
            {
                _permissions.MarkRevoked(revoked);
            }
        }
    }

    // ---- Decisions -------------------------------------------------------------------------------------------

    public Task<Decision> CheckAsync(CheckRequest request)
    {
        var decision = _permissions.Decide(request, _time.GetUtcNow(), _key);
        AgentSecurityMetrics.RecordCheck(decision.Reason);
        return Task.FromResult(decision);
    }

    public Task<Explanation> ExplainAsync(CheckRequest request) => Task.FromResult(_permissions.Explain(request, _time.GetUtcNow(), _key));

    public Task<Explanation> WhatIfAsync(CheckRequest request, string proposedGrant)
    {
        var now = _time.GetUtcNow();
        var terms = GrantTerms.ParseProposal(System.Text.Encoding.UTF8.GetBytes(proposedGrant ?? string.Empty), now);
        if (!terms.Succeeded)
        {
            return Task.FromResult(new Explanation
            {
                Decision = Decision.Deny(terms.Failure!.Code, $"the proposed grant is not valid: {terms.Failure.Message}"),
                DecidedBy = "proposal",
                Suggestion = "fix the proposed grant",
            });
        }

        if (request is null || string.IsNullOrEmpty(request.Capability))
        {
            return Task.FromResult(new Explanation { Decision = Decision.Deny(ReasonCodes.InvalidRequest, "a check needs a capability"), DecidedBy = "request" });
        }

        var explained = GrantExplanation.For(new GrantPolicy(terms.Value, _options.ClockSkew), request.Capability, request.Resource, now);
        var verdict = explained.Decision;
        return Task.FromResult(new Explanation
        {
            Decision = new Decision { Allowed = verdict.Allowed, Reason = verdict.Reason, Message = verdict.Message },
            DecidedBy = $"proposal: {explained.DecidedBy}",
            Suggestion = explained.Suggestion,
        });
    }

    // ---- Grants ----------------------------------------------------------------------------------------------

    public async Task<ApplyGrantResult> ApplyGrantAsync(string signedGrant)
    {
        var (grant, refusal) = Admit(signedGrant);
        var active = _permissions.Active;
        if (grant is not null && active is not null && active.Document.Envelope.ContentHash != grant.Envelope.ContentHash && grant.IssuedAt < active.Document.IssuedAt)
        {
            refusal = Refused(ReasonCodes.Stale, $"issued {DocumentTime.ToText(grant.IssuedAt)}, before the active grant {active.GrantId} ({DocumentTime.ToText(active.Document.IssuedAt)})", grant.GrantId);
        }

        if (refusal is null)
        {
            var verification = await Issuer.VerifyGrantAsync(signedGrant!);
            refusal = verification.Accepted ? null : Refused(verification.Error!, verification.Message!, grant!.GrantId);
        }

        if (refusal is not null)
        {
            return Refuse(refusal);
        }

        if (_permissions.Active?.Document.Envelope.ContentHash == grant!.Envelope.ContentHash)
        {
            return Applied(grant.GrantId, unchanged: true);
        }

        var previous = _permissions.Active;
        var written = await CommitAsync(
            s =>
            {
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
                s.GrantDocument = previous?.Document.Envelope.CanonicalText;
                s.Version--;
                if (previous is not null)
                {
                    s.PreviousGrantIds.RemoveAt(0);
                }
            });
        if (!written)
        {
            return Refuse(Refused(ReasonCodes.Unavailable, "the grant could not be stored; the previous grant stays in force", grant.GrantId));
        }

        _permissions.Active = ActiveGrant.Compile(grant, _options.ClockSkew);
        _permissions.Problem = null;
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
            return Refuse(refusal);
        }

        var now = _time.GetUtcNow();
        var kept = _permissions.Elevations.Where(e => e.Document.ExpiresAt > now).TakeLast(MaxElevations - 1).ToList();
        var before = State.Elevations.ToList();
        var written = await CommitAsync(
            s => s.Elevations = [.. kept.Select(e => e.Document.Envelope.CanonicalText), grant!.Envelope.CanonicalText],
            s => s.Elevations = before);
        if (!written)
        {
            return Refuse(Refused(ReasonCodes.Unavailable, "the elevation could not be stored", grant!.GrantId));
        }

        _permissions.SetElevations([.. kept, ActiveGrant.Compile(grant!, _options.ClockSkew)]);
        Log.GrantApplied(_logger, grant!.GrantId, _key, State.Version, grant.SignedBy.Value);
        return Applied(grant.GrantId, unchanged: false);
    }

    public async Task NotifyRevokedAsync(string grantId)
    {
        // Confirmed with the issuer, so a stray call cannot deny an agent anything that was not really revoked.
        if (!_permissions.Holds(grantId) || _permissions.IsRevoked(grantId))
        {
            return;
        }

        if ((await Issuer.FindRevokedAsync([grantId])).Count > 0)
        {
            _permissions.MarkRevoked(grantId);
            Log.AgentGrantRevoked(_logger, _key, grantId);
        }
    }

    public Task<string?> GetActiveGrantAsync(string grantId) => Task.FromResult(
        _permissions.Active is { } active && active.GrantId == grantId && !_permissions.IsRevoked(grantId)
            ? active.Document.Envelope.CanonicalText
            : null);

    // ---- Quarantine and requests -----------------------------------------------------------------------------

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
            s => (s.State, s.QuarantineReason, s.QuarantineIssuedAt) = before);
        if (!written)
        {
            return new QuarantineResult { Agent = _key, State = State.State, Error = ReasonCodes.Unavailable, Message = "the quarantine could not be stored" };
        }

        _permissions.State = newState;
        Log.QuarantineChanged(_logger, _key, newState.ToString(), document.Reason);
        return new QuarantineResult { Accepted = true, Agent = _key, State = newState };
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

    public Task<AgentStatus> GetStatusAsync() => Task.FromResult(new AgentStatus
    {
        Agent = _key,
        State = _permissions.State,
        GrantId = _permissions.Active?.GrantId,
        Version = State.Version,
        SignedBy = _permissions.Active?.Document.SignedBy.Value,
        NotBefore = _permissions.Active?.Document.NotBefore,
        ExpiresAt = _permissions.Active?.Document.ExpiresAt,
        PreviousGrantIds = State.PreviousGrantIds.ToArray(),
        Problem = _permissions.Problem,
        Revoked = _permissions.IsActiveRevoked,
        ElevationGrantIds = _permissions.Elevations.Where(e => e.Document.ExpiresAt > _time.GetUtcNow() && !_permissions.IsRevoked(e.GrantId)).Select(e => e.GrantId).ToArray(),
        QuarantineReason = _permissions.State == AgentState.Quarantined ? State.QuarantineReason : null,
    });

    public Task PingAsync() => Task.CompletedTask;

    // ---- Helpers ---------------------------------------------------------------------------------------------

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

    /// <summary>Applies a change, writes it, and undoes it if the write fails: nothing half-applied.</summary>
    private async Task<bool> CommitAsync(Action<AgentGrainState> change, Action<AgentGrainState> undo)
    {
        change(State);
        try
        {
            await _state.WriteStateAsync();
            return true;
        }
#pragma warning disable CA1031 // Any storage failure refuses the change; the caller gets unavailable.
        catch (Exception e)
#pragma warning restore CA1031
        {
            undo(State);
            Log.GrantNotPersisted(_logger, e, _key);
            DeactivateOnIdle(); // the stored ETag may be stale now; a fresh activation reads the truth
            return false;
        }
    }

    private ApplyGrantResult Refuse(ApplyGrantResult refusal)
    {
        Log.GrantRefused(_logger, _key, refusal.Error!, refusal.Message!);
        AgentSecurityMetrics.RecordRefusedGrant(refusal.Error!);
        return refusal;
    }

    private ApplyGrantResult Applied(string grantId, bool unchanged) =>
        new() { Applied = true, Agent = _key, GrantId = grantId, Version = State.Version, Unchanged = unchanged };

    private ApplyGrantResult Refused(string error, string message, string? grantId = null) =>
        ApplyGrantResult.Refused(_key, error, message, grantId);
}

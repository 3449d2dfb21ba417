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
/// One agent: the single writer of its grant and status and the decision point of its checks. Grants are verified
/// once, when applied (and re-verified when loaded from storage); a check is a lookup in memory.
/// </summary>
public sealed class AgentGrain : Grain, IAgentGrain
{
    private readonly IPersistentState<AgentGrainState> _state;
    private readonly TimeProvider _time;
    private readonly AgentSecurityOptions _options;
    private readonly ILogger<AgentGrain> _logger;

    private string _key = string.Empty;
    private string _tenantId = string.Empty;
    private string _agentId = string.Empty;
    private bool _validKey;
    private ActiveGrant? _active;

    // Set when storage holds a grant that does not load: the agent then denies everything as unavailable.
    private string? _problem;

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

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        _key = this.GetPrimaryKeyString();
        _validKey = AgentKey.TryParse(_key, out _tenantId, out _agentId);
        if (_state.State.GrantDocument is { } stored)
        {
            LoadStoredGrant(stored);
        }

        return Task.CompletedTask;
    }

    public Task<Decision> CheckAsync(CheckRequest request)
    {
        var decision = Decide(request);
        AgentSecurityMetrics.RecordCheck(decision.Reason);
        return Task.FromResult(decision);
    }

    public async Task<ApplyGrantResult> ApplyGrantAsync(string signedGrant)
    {
        var (grant, refusal) = await VerifyAsync(signedGrant);
        if (grant is null)
        {
            Log.GrantRefused(_logger, _key, refusal!.Error!, refusal.Message!);
            AgentSecurityMetrics.RecordRefusedGrant(refusal.Error!);
            return refusal;
        }

        if (_active?.Document.Envelope.ContentHash == grant.Envelope.ContentHash)
        {
            return Applied(unchanged: true);
        }

        return await InstallAsync(grant);
    }

    public Task<AgentStatus> GetStatusAsync() => Task.FromResult(new AgentStatus
    {
        Agent = _key,
        State = _state.State.State,
        GrantId = _active?.GrantId,
        Version = _state.State.Version,
        SignedBy = _active?.Document.SignedBy.Value,
        NotBefore = _active?.Document.NotBefore,
        ExpiresAt = _active?.Document.ExpiresAt,
        PreviousGrantIds = _state.State.PreviousGrantIds.ToArray(),
        Problem = _problem,
    });

    public Task PingAsync() => Task.CompletedTask;

    private Decision Decide(CheckRequest? request)
    {
        if (request is null || string.IsNullOrEmpty(request.Capability) || request.Amount < 0)
        {
            return Decision.Deny(ReasonCodes.InvalidRequest, "a check needs a capability and, if any, an amount of at least 0");
        }

        if (_problem is not null)
        {
            return Decision.Deny(ReasonCodes.Unavailable, _problem);
        }

        if (_active is null)
        {
            return Decision.Deny(ReasonCodes.NoGrant, _validKey ? $"{_key} has no grant" : $"\"{_key}\" is not an agent key (tenant/agent)");
        }

        switch (_state.State.State)
        {
            case AgentState.Quarantined:
                return Decision.Deny(ReasonCodes.Quarantined, $"{_key} is quarantined", _active.GrantId);
            case AgentState.Suspended:
                return Decision.Deny(ReasonCodes.Suspended, $"{_key} is suspended", _active.GrantId);
        }

        var verdict = _active.Policy.Decide(request.Capability, request.Resource, _time.GetUtcNow());
        return new Decision { Allowed = verdict.Allowed, Reason = verdict.Reason, Message = verdict.Message, GrantId = _active.GrantId };
    }

    /// <summary>Everything that can refuse a grant, cheapest first: the grant when it may be installed, else the refusal.</summary>
    private async Task<(GrantDocument? Grant, ApplyGrantResult? Refusal)> VerifyAsync(string signedGrant)
    {
        if (!_validKey)
        {
            return (null, Refused(ReasonCodes.InvalidField, $"\"{_key}\" is not an agent key (tenant/agent)"));
        }

        var parsed = GrantDocument.Parse(signedGrant ?? string.Empty);
        if (!parsed.Succeeded)
        {
            return (null, Refused(parsed.Failure!.Code, parsed.Failure.Message));
        }

        var grant = parsed.Value;
        if (grant.TenantId != _tenantId)
        {
            return (null, Refused(ReasonCodes.TenantMismatch, $"the grant is for tenant {grant.TenantId}, not {_tenantId}", grant.GrantId));
        }

        if (grant.AgentId != _agentId)
        {
            return (null, Refused(ReasonCodes.AgentMismatch, $"the grant is for agent {grant.TenantId}/{grant.AgentId}, not {_key}", grant.GrantId));
        }

        if (_active is { } active && active.Document.Envelope.ContentHash != grant.Envelope.ContentHash && grant.IssuedAt < active.Document.IssuedAt)
        {
            return (null, Refused(ReasonCodes.Stale, $"issued {DocumentTime.ToText(grant.IssuedAt)}, before the active grant {active.GrantId} ({DocumentTime.ToText(active.Document.IssuedAt)})", grant.GrantId));
        }

        var verification = await GrainFactory.GetGrain<IGrantIssuerGrain>(_tenantId).VerifyGrantAsync(signedGrant!);
        return verification.Accepted ? (grant, null) : (null, Refused(verification.Error!, verification.Message!, grant.GrantId));
    }

    private async Task<ApplyGrantResult> InstallAsync(GrantDocument grant)
    {
        var state = _state.State;
        var before = (state.GrantDocument, state.Version, History: state.PreviousGrantIds.ToList());

        if (_active is not null)
        {
            state.PreviousGrantIds.Insert(0, _active.GrantId);
            if (state.PreviousGrantIds.Count > _options.GrantHistoryLength)
            {
                state.PreviousGrantIds.RemoveRange(_options.GrantHistoryLength, state.PreviousGrantIds.Count - _options.GrantHistoryLength);
            }
        }

        state.GrantDocument = grant.Envelope.CanonicalText;
        state.Version++;
        try
        {
            await _state.WriteStateAsync();
        }
#pragma warning disable CA1031 // Any storage failure means the grant is not installed; the caller gets unavailable.
        catch (Exception e)
#pragma warning restore CA1031
        {
            (state.GrantDocument, state.Version, state.PreviousGrantIds) = before;
            Log.GrantNotPersisted(_logger, e, _key);
            // The stored ETag may now be stale; a fresh activation reads the truth from storage.
            DeactivateOnIdle();
            return Refused(ReasonCodes.Unavailable, "the grant could not be stored; the previous grant stays in force", grant.GrantId);
        }

        _active = new ActiveGrant(grant, GrantPolicy.For(grant, _options.ClockSkew));
        _problem = null;
        Log.GrantApplied(_logger, grant.GrantId, _key, state.Version, grant.SignedBy.Value);
        AgentSecurityMetrics.GrantsApplied.Add(1);
        return Applied(unchanged: false);
    }

    private void LoadStoredGrant(string stored)
    {
        // The grant was fully verified when applied; checking form and signature again guards against storage
        // that was altered behind the cluster's back.
        var parsed = GrantDocument.Parse(stored);
        var failure = !parsed.Succeeded ? parsed.Failure
            : DocumentChecks.Signature(parsed.Value.Envelope)
            ?? (parsed.Value.TenantId != _tenantId || parsed.Value.AgentId != _agentId
                ? new Failure(ReasonCodes.AgentMismatch, "the stored grant names another agent")
                : null);
        if (failure is not null)
        {
            _problem = $"the stored grant failed verification ({failure.Code}); apply a grant again";
            Log.StoredGrantRejected(_logger, _key, failure.Message);
            return;
        }

        _active = new ActiveGrant(parsed.Value, GrantPolicy.For(parsed.Value, _options.ClockSkew));
    }

    private ApplyGrantResult Applied(bool unchanged) => new()
    {
        Applied = true,
        Agent = _key,
        GrantId = _active!.GrantId,
        Version = _state.State.Version,
        Unchanged = unchanged,
    };

    private ApplyGrantResult Refused(string error, string message, string? grantId = null) =>
        ApplyGrantResult.Refused(_key, error, message, grantId);
}

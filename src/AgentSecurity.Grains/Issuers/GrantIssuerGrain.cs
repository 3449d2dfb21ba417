using AgentSecurity.Abstractions;
using AgentSecurity.Grains.Telemetry;
using AgentSecurity.Grants;
using AgentSecurity.Grants.Documents;
using AgentSecurity.Grants.Identity;
using AgentSecurity.Grants.Verification;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace AgentSecurity.Grains.Issuers;

/// <summary>
/// A tenant's trust anchor: the only writer of its root DIDs and accepted grant ids, and the verifier of every
/// grant an agent of the tenant installs.
/// </summary>
public sealed class GrantIssuerGrain : Grain, IGrantIssuerGrain
{
    private readonly IPersistentState<IssuerGrainState> _state;
    private readonly TimeProvider _time;
    private readonly AgentSecurityOptions _options;
    private readonly ILogger<GrantIssuerGrain> _logger;
    private readonly DidKey _operator;

    private string _tenantId = string.Empty;
    private TenantDocument? _tenant;

    public GrantIssuerGrain(
        [PersistentState("issuer", StorageNames.Grains)] IPersistentState<IssuerGrainState> state,
        [FromKeyedServices(KernelClock.ServiceKey)] TimeProvider time,
        IOptions<AgentSecurityOptions> options,
        ILogger<GrantIssuerGrain> logger)
    {
        _state = state;
        _time = time;
        _options = options.Value;
        _logger = logger;
        _operator = DidKey.Parse(_options.OperatorDid).Value; // validated at silo start
    }

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        _tenantId = this.GetPrimaryKeyString();
        if (_state.State.TenantDocument is { } stored)
        {
            // Written only after full verification; the signature is checked again against altered storage.
            var parsed = TenantDocument.Parse(stored);
            _tenant = parsed.Succeeded && parsed.Value.Envelope.HasValidSignature() && parsed.Value.Envelope.SignedBy.Equals(_operator)
                ? parsed.Value
                : null;
        }

        return Task.CompletedTask;
    }

    public async Task<TenantResult> CreateTenantAsync(string signedTenant)
    {
        var parsed = TenantDocument.Parse(signedTenant ?? string.Empty);
        var failure = !parsed.Succeeded ? parsed.Failure : CheckTenantDocument(parsed.Value);
        if (failure is not null)
        {
            Log.TenantRefused(_logger, _tenantId, failure.Code, failure.Message);
            return new TenantResult { TenantId = _tenantId, Error = failure.Code, Message = failure.Message };
        }

        var tenant = parsed.Value;
        if (_tenant is not null)
        {
            return _tenant.Envelope.ContentHash == tenant.Envelope.ContentHash
                ? new TenantResult { Created = true, Unchanged = true, TenantId = _tenantId }
                : new TenantResult { TenantId = _tenantId, Error = ReasonCodes.TenantExists, Message = $"tenant {_tenantId} already exists" };
        }

        _state.State.TenantDocument = tenant.Envelope.CanonicalText;
        if (!await TryWriteAsync())
        {
            _state.State.TenantDocument = null;
            return new TenantResult { TenantId = _tenantId, Error = ReasonCodes.Unavailable, Message = "the tenant could not be stored" };
        }

        _tenant = tenant;
        Log.TenantCreated(_logger, _tenantId, tenant.RootDids.Count);
        return new TenantResult { Created = true, TenantId = _tenantId };
    }

    public Task<TenantInfo?> GetTenantAsync() => Task.FromResult(_tenant is null ? null : new TenantInfo
    {
        TenantId = _tenant.TenantId,
        RootDids = _tenant.RootDids.Select(d => d.Value).ToArray(),
        IssuedAt = _tenant.Envelope.IssuedAt,
    });

    public async Task<GrantVerification> VerifyGrantAsync(string signedGrant)
    {
        var parsed = GrantDocument.Parse(signedGrant ?? string.Empty);
        if (!parsed.Succeeded)
        {
            return GrantVerification.Refuse(parsed.Failure!.Code, parsed.Failure.Message);
        }

        var grant = parsed.Value;
        var now = _time.GetUtcNow();
        var failure = CheckGrant(grant, now);
        if (failure is not null)
        {
            return GrantVerification.Refuse(failure.Code, failure.Message);
        }

        var accepted = _state.State.AcceptedGrants;
        if (accepted.TryGetValue(grant.GrantId, out var seen))
        {
            return seen.ContentHash == grant.Envelope.ContentHash
                ? GrantVerification.Accept
                : GrantVerification.Refuse(ReasonCodes.Replayed, $"grant id {grant.GrantId} was already used for a different grant");
        }

        var expired = accepted.Where(p => p.Value.ExpiresAt <= now).Select(p => p.Key).ToList();
        var removed = expired.ToDictionary(id => id, id => accepted[id]);
        foreach (var id in expired)
        {
            accepted.Remove(id);
        }

        accepted[grant.GrantId] = new AcceptedGrant { ContentHash = grant.Envelope.ContentHash, AgentId = grant.AgentId, ExpiresAt = grant.ExpiresAt };
        if (!await TryWriteAsync())
        {
            accepted.Remove(grant.GrantId);
            foreach (var (id, entry) in removed)
            {
                accepted[id] = entry;
            }

            return GrantVerification.Refuse(ReasonCodes.Unavailable, "the issuer could not record the grant");
        }

        return GrantVerification.Accept;
    }

    /// <summary>Trust and time rules of a grant, cheapest first (the signature costs the most).</summary>
    private Failure? CheckGrant(GrantDocument grant, DateTimeOffset now)
    {
        if (_tenant is null)
        {
            return new Failure(ReasonCodes.UnknownTenant, $"tenant {_tenantId} does not exist");
        }

        if (grant.TenantId != _tenantId)
        {
            return new Failure(ReasonCodes.TenantMismatch, $"the grant is for tenant {grant.TenantId}, not {_tenantId}");
        }

        if (grant.ParentGrantId is not null)
        {
            return new Failure(ReasonCodes.UntrustedSigner, "delegated grants (parentGrantId) are not accepted by this cluster yet");
        }

        if (!_tenant.RootDids.Contains(grant.SignedBy))
        {
            return new Failure(ReasonCodes.UntrustedSigner, $"{grant.SignedBy.Value} is not a root of tenant {_tenantId}");
        }

        return DocumentChecks.Signature(grant.Envelope) ?? DocumentChecks.GrantTimeWindow(grant, now, _options.ClockSkew);
    }

    private Failure? CheckTenantDocument(TenantDocument tenant)
    {
        if (tenant.TenantId != _tenantId)
        {
            return new Failure(ReasonCodes.TenantMismatch, $"the document is for tenant {tenant.TenantId}, not {_tenantId}");
        }

        if (!tenant.Envelope.SignedBy.Equals(_operator))
        {
            return new Failure(ReasonCodes.UntrustedSigner, $"tenants are created by the operator {_operator.Value}, not {tenant.Envelope.SignedBy.Value}");
        }

        var now = _time.GetUtcNow();
        return DocumentChecks.Signature(tenant.Envelope)
            ?? DocumentChecks.TimeWindow(tenant.Envelope.IssuedAt, tenant.Envelope.IssuedAt, null, now, _options.ClockSkew);
    }

    private async Task<bool> TryWriteAsync()
    {
        try
        {
            await _state.WriteStateAsync();
            return true;
        }
#pragma warning disable CA1031 // Any storage failure refuses the change; the caller gets unavailable.
        catch (Exception e)
#pragma warning restore CA1031
        {
            Log.IssuerNotPersisted(_logger, e, _tenantId);
            DeactivateOnIdle();
            return false;
        }
    }
}

using AgentSecurity.Abstractions.Boundary;
using AgentSecurity.Abstractions.Kernel;
using AgentSecurity.Abstractions;
using AgentSecurity.Grains.Audit;
using AgentSecurity.Grains.Boundary;
using AgentSecurity.Grants.Access;
using AgentSecurity.Grains.Outbox;
using AgentSecurity.Grains.Telemetry;
using AgentSecurity.Grants;
using AgentSecurity.Grants.Capabilities;
using AgentSecurity.Grants.Identity;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Serialization;

namespace AgentSecurity.Grains.Issuers;

/// <summary>
/// A tenant's trust anchor: the only writer of its roots, admins, accepted grant ids, revocations and permission
/// requests, and the verifier of every document that widens what an agent of the tenant may do. The grain routes each
/// call to the collaborator that owns the concern; all of them change the state through one
/// <see cref="StateOutbox{TState}"/>, so a change is written with its security events or not at all.
/// </summary>
public sealed class GrantIssuerGrain : Grain, IGrantIssuerGrain, IIssuerKernelGrain
{
    private readonly StateOutbox<IssuerGrainState> _outbox;
    private readonly TrustAdministration _trust;
    private readonly LimitsAdministration _limits;
    private readonly GrantVerifier _grants;
    private readonly Revocations _revocations;
    private readonly PermissionRequests _requests;
    private readonly TenantAccess _access;

    public GrantIssuerGrain(
        [PersistentState("issuer", StorageNames.Issuers)] IPersistentState<IssuerGrainState> state,
        DeepCopier<IssuerGrainState> copier,
        [FromKeyedServices(KernelClock.ServiceKey)] TimeProvider time,
        IOptions<AgentSecurityOptions> options,
        AuditEvents audit,
        PlatformLimits platform,
        ILogger<GrantIssuerGrain> logger)
    {
        var tenantId = this.GetPrimaryKeyString();
        var settings = options.Value;
        var operatorDid = DidKey.Parse(settings.OperatorDid).Value; // validated at silo start
        var events = new IssuerEvents(audit, tenantId, logger);
        var callers = new CallerChanges(GrainFactory, tenantId, logger);
        _outbox = new StateOutbox<IssuerGrainState>(this, state, copier, audit, tenantId, logger, static (log, e, key) => Log.IssuerNotPersisted(log, e, key));
        _trust = new TrustAdministration(_outbox, events, callers, operatorDid, time, settings, tenantId, logger);
        var authorizer = ServiceProvider.GetRequiredService<CallAuthorizer>();
        _limits = new LimitsAdministration(_outbox, _trust, events, GrainFactory, operatorDid, time, settings, tenantId,
            () => authorizer.AuthorizeAsync(CallerContext.Principal ?? string.Empty, AccessRights.Apply, CallScope.AllTenants, tenant: null, agent: null, agentDid: null), logger);
        _grants = new GrantVerifier(_outbox, _trust, _limits, GrainFactory, platform, time, settings, tenantId);
        _revocations = new Revocations(_outbox, _trust, events, callers, GrainFactory, time, settings, tenantId, logger);
        _requests = new PermissionRequests(_outbox, _trust, _grants, events, time, settings, tenantId, logger);
        _access = new TenantAccess(_outbox, _trust, events, callers, time, settings, tenantId);
    }

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        _trust.Load();
        _limits.Load(); // after the trust, which judges who signed them
        return _outbox.FlushAsync(); // events a previous activation wrote but could not publish
    }

    public Task<TenantResult> CreateTenantAsync(string signedTenant) => _trust.CreateTenantAsync(signedTenant ?? string.Empty);

    public Task<TenantInfo?> GetTenantAsync() => Task.FromResult(_trust.GetTenant());

    public Task<DocumentResult> RegisterAdminAsync(string signedAdmin) => _trust.RegisterAdminAsync(signedAdmin ?? string.Empty);

    public Task<DocumentResult> RotateRootAsync(string signedRotation) => _trust.RotateRootAsync(signedRotation ?? string.Empty);

    public Task<GrantVerification> VerifyQuarantineAsync(string signedQuarantine) => Task.FromResult(_trust.VerifyQuarantine(signedQuarantine ?? string.Empty));

    public Task<DocumentResult> SetTenantLimitsAsync(string signedLimits) => _limits.SetAsync(signedLimits ?? string.Empty);

    public Task<TenantLimits> GetTenantLimitsAsync() => Task.FromResult(_limits.Get());

    public Task<GrantVerification> VerifyGrantAsync(string signedGrant) => _grants.VerifyAsync(signedGrant ?? string.Empty);

    public async Task<RevocationResult> RevokeAsync(string signedRevocation)
    {
        using var activity = KernelTracing.Enabled ? KernelTracing.Start(KernelTracing.Revoke) : null;
        activity?.SetTag(KernelTracing.TenantAttribute, this.GetPrimaryKeyString());
        KernelTracing.Propagate(); // the notices to the agents holding the grant continue this trace
        var result = await _revocations.RevokeAsync(signedRevocation ?? string.Empty);
        activity?.SetTag(KernelTracing.ReasonAttribute, result.Error ?? ReasonCodes.Allowed);
        return result;
    }

    public Task<IReadOnlyList<StoredGrantStatus>> ConfirmStoredGrantsAsync(IReadOnlyList<StoredGrantRef> grants) => Task.FromResult(_revocations.ConfirmStoredGrants(grants));

    public Task<IReadOnlyList<string>> FindRevokedAsync(IReadOnlyList<string> grantIds) => Task.FromResult(_revocations.FindRevoked(grantIds));

    public Task<PermissionRequestResult> RecordRequestAsync(string agentId, PermissionRequestInput request) => _requests.RecordAsync(agentId, request);

    public Task<IReadOnlyList<PermissionRequestInfo>> ListRequestsAsync() => Task.FromResult(_requests.List());

    public Task<GrantVerification> VerifyElevationAsync(string requestId, string signedGrant) => _requests.AnswerAsync(requestId, signedGrant ?? string.Empty);

    public Task<DocumentResult> ApplyAccessAsync(string signedAccess) => _access.ApplyAsync(signedAccess ?? string.Empty);

    public Task<TenantCallers> GetCallersAsync() => Task.FromResult(_access.GetCallers());
}

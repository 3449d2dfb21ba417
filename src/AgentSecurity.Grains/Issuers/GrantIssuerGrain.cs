using AgentSecurity.Abstractions;
using AgentSecurity.Abstractions.Audit;
using AgentSecurity.Grains.Audit;
using AgentSecurity.Grains.Telemetry;
using AgentSecurity.Grants;
using AgentSecurity.Grants.Capabilities;
using AgentSecurity.Grants.Documents;
using AgentSecurity.Grants.Identity;
using AgentSecurity.Grants.Policy;
using AgentSecurity.Grants.Verification;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace AgentSecurity.Grains.Issuers;

/// <summary>
/// A tenant's trust anchor: the only writer of its roots, admins, accepted grant ids, revocations and permission
/// requests, and the verifier of every document that widens what an agent of the tenant may do.
/// </summary>
public sealed class GrantIssuerGrain : Grain, IGrantIssuerGrain
{
    /// <summary>The contract's bound on delegation chains.</summary>
    public const int MaxChainDepth = 8;

    /// <summary>Rotations kept per tenant: the trust history is replayed on every activation, so it stays short.</summary>
    public const int MaxRotations = 64;

    /// <summary>Revocations of grants never applied (kept until the grant shows up) per tenant.</summary>
    public const int MaxAdvanceRevocations = 10_000;

    private readonly IPersistentState<IssuerGrainState> _state;
    private readonly TimeProvider _time;
    private readonly AgentSecurityOptions _options;
    private readonly ILogger<GrantIssuerGrain> _logger;
    private readonly AuditEvents _audit;
    private readonly DidKey _operator;
    private readonly PlatformLimits _platform;

    private string _tenantId = string.Empty;
    private TenantTrust? _trust;
    private LimitsDocument? _limits;
    private bool _limitsRejected;

    public GrantIssuerGrain(
        [PersistentState("issuer", StorageNames.Issuers)] IPersistentState<IssuerGrainState> state,
        [FromKeyedServices(KernelClock.ServiceKey)] TimeProvider time,
        IOptions<AgentSecurityOptions> options,
        AuditEvents audit,
        PlatformLimits platform,
        ILogger<GrantIssuerGrain> logger)
    {
        _audit = audit;
        _platform = platform;
        _state = state;
        _time = time;
        _options = options.Value;
        _logger = logger;
        _operator = DidKey.Parse(_options.OperatorDid).Value; // validated at silo start
    }

    private IssuerGrainState State => _state.State;

    private DateTimeOffset Now => _time.GetUtcNow();

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        _tenantId = this.GetPrimaryKeyString();
        if (State.TenantDocument is { } tenant)
        {
            _trust = TenantTrust.Load(tenant, _operator, State.RotationDocuments, State.AdminDocuments.Values);
            if (_trust is null)
            {
                Log.IssuerStateRejected(_logger, _tenantId);
            }
        }

        if (State.LimitsDocument is { } limits && _trust is not null)
        {
            // Stored limits count only if signed, for this tenant, by the operator or one of its roots.
            var parsed = LimitsDocument.Parse(limits);
            _limits = parsed.Succeeded && parsed.Value.TenantId == _tenantId && parsed.Value.Envelope.HasValidSignature() &&
                (parsed.Value.Envelope.SignedBy.Equals(_operator) || _trust.WasRoot(parsed.Value.Envelope.SignedBy))
                ? parsed.Value
                : null;
            _limitsRejected = _limits is null;
            if (_limitsRejected)
            {
                Log.IssuerStateRejected(_logger, _tenantId);
            }
        }

        await FlushOutboxAsync();
    }

    // ---- Tenant, admins, rotation ----------------------------------------------------------------------------

    public async Task<TenantResult> CreateTenantAsync(string signedTenant)
    {
        var parsed = TenantDocument.Parse(signedTenant ?? string.Empty);
        var tenant = parsed.Succeeded ? parsed.Value : null;
        var failure = parsed.Failure
            ?? (tenant!.TenantId != _tenantId ? new Failure(ReasonCodes.TenantMismatch, $"the document is for tenant {tenant.TenantId}, not {_tenantId}") : null)
            ?? (!tenant.Envelope.SignedBy.Equals(_operator) ? new Failure(ReasonCodes.UntrustedSigner, $"tenants are created by the operator {_operator.Value}, not {tenant.Envelope.SignedBy.Value}") : null)
            ?? DocumentChecks.Signature(tenant.Envelope)
            ?? DocumentChecks.TimeWindow(tenant.Envelope.IssuedAt, tenant.Envelope.IssuedAt, null, Now, _options.ClockSkew);
        if (failure is not null)
        {
            Log.TenantRefused(_logger, _tenantId, failure.Code, failure.Message);
            return new TenantResult { TenantId = _tenantId, Error = failure.Code, Message = failure.Message };
        }

        if (State.TenantDocument is not null)
        {
            return _trust?.Tenant.Envelope.ContentHash == tenant!.Envelope.ContentHash
                ? new TenantResult { Created = true, Unchanged = true, TenantId = _tenantId }
                : new TenantResult { TenantId = _tenantId, Error = ReasonCodes.TenantExists, Message = $"tenant {_tenantId} already exists" };
        }

        if (!await CommitAsync(s => s.TenantDocument = tenant!.Envelope.CanonicalText, s => s.TenantDocument = null,
            Event(SecurityEventTypes.TenantCreated, signer: tenant!.Envelope.SignedBy.Value, message: $"roots: {string.Join(", ", tenant.RootDids.Select(d => d.Value))}")))
        {
            return new TenantResult { TenantId = _tenantId, Error = ReasonCodes.Unavailable, Message = "the tenant could not be stored" };
        }

        _trust = TenantTrust.From(tenant!);
        Log.TenantCreated(_logger, _tenantId, tenant!.RootDids.Count);
        return new TenantResult { Created = true, TenantId = _tenantId };
    }

    public Task<TenantInfo?> GetTenantAsync() => Task.FromResult(_trust is null ? null : new TenantInfo
    {
        TenantId = _tenantId,
        RootDids = _trust.Roots.Select(d => d.Value).Order(StringComparer.Ordinal).ToArray(),
        IssuedAt = _trust.Tenant.Envelope.IssuedAt,
        Admins = _trust.Admins.Values.Select(a => new AdminInfo { AdminDid = a.AdminDid.Value, ExpiresAt = a.ExpiresAt, SignedBy = a.Envelope.SignedBy.Value }).ToArray(),
        RetiredRootDids = _trust.RetiredRoots.Keys.Select(d => d.Value).ToArray(),
    });

    public async Task<DocumentResult> RegisterAdminAsync(string signedAdmin)
    {
        var parsed = AdminDocument.Parse(signedAdmin ?? string.Empty);
        var admin = parsed.Succeeded ? parsed.Value : null;
        var now = Now;
        var failure = parsed.Failure
            ?? TenantFailure(admin!.TenantId)
            ?? (!_trust!.IsRoot(admin.Envelope.SignedBy) ? _trust.Untrusted(admin.Envelope.SignedBy, now) with { Message = $"admins are registered by a root: {_trust.Untrusted(admin.Envelope.SignedBy, now).Message}" } : null)
            ?? TenantTrust.CheckSignatureAndTime(admin.Envelope, now, _options.ClockSkew)
            ?? (admin.ExpiresAt <= now ? new Failure(ReasonCodes.Expired, $"the admin registration expired at {DocumentTime.ToText(admin.ExpiresAt)}") : null);
        if (failure is not null)
        {
            return await RefuseAsync(DocumentResult.Refuse(failure.Code, failure.Message), "admin registration", admin?.Envelope.SignedBy.Value);
        }

        var key = admin!.AdminDid.Value;
        var registered = _trust!.Admins.TryGetValue(admin.AdminDid, out var existing);
        if (registered && existing!.Envelope.ContentHash == admin.Envelope.ContentHash)
        {
            return new DocumentResult { Accepted = true, Unchanged = true };
        }

        if (State.AdminFloor is { } floor && admin.Envelope.IssuedAt <= floor)
        {
            return DocumentResult.Refuse(ReasonCodes.Stale, $"registrations issued at or before {DocumentTime.ToText(floor)} were forgotten with the expired admins; sign a new one");
        }

        if (registered && existing!.Envelope.IssuedAt > admin.Envelope.IssuedAt)
        {
            return DocumentResult.Refuse(ReasonCodes.Stale, $"a newer registration of {key} (issued {DocumentTime.ToText(existing.Envelope.IssuedAt)}) is in force");
        }

        if (!registered && _trust.Admins.Values.Count(a => a.ExpiresAt > now) >= _options.MaxAdminsPerTenant)
        {
            return DocumentResult.Refuse(ReasonCodes.QuotaExceeded, $"tenant {_tenantId} has {_options.MaxAdminsPerTenant} admins already");
        }

        // Expired registrations of other admins go with this write, so the map holds the admins in force and no more.
        var expired = _trust.Admins.Values.Where(a => a.ExpiresAt <= now && a.AdminDid != admin.AdminDid).ToList();
        var (before, floorBefore) = (new Dictionary<string, string>(State.AdminDocuments, StringComparer.Ordinal), State.AdminFloor);
        if (!await CommitAsync(
            s =>
            {
                expired.ForEach(a => s.AdminDocuments.Remove(a.AdminDid.Value));
                s.AdminFloor = expired.Select(a => (DateTimeOffset?)a.Envelope.IssuedAt).Append(s.AdminFloor).Max();
                s.AdminDocuments[key] = admin.Envelope.CanonicalText;
            },
            s => (s.AdminDocuments, s.AdminFloor) = (before, floorBefore),
            Event(SecurityEventTypes.AdminRegistered, signer: admin.Envelope.SignedBy.Value, message: $"admin {key} until {DocumentTime.ToText(admin.ExpiresAt)}")))
        {
            return DocumentResult.Refuse(ReasonCodes.Unavailable, "the admin could not be stored");
        }

        expired.ForEach(a => _trust.Forget(a.AdminDid));
        _trust.Register(admin);
        Log.AdminRegistered(_logger, _tenantId, key, admin.ExpiresAt);
        return new DocumentResult { Accepted = true };
    }

    public async Task<DocumentResult> RotateRootAsync(string signedRotation)
    {
        var parsed = RotationDocument.Parse(signedRotation ?? string.Empty);
        var rotation = parsed.Succeeded ? parsed.Value : null;
        if (rotation is not null && State.RotationDocuments.Contains(rotation.Envelope.CanonicalText, StringComparer.Ordinal))
        {
            return new DocumentResult { Accepted = true, Unchanged = true };
        }

        var failure = parsed.Failure
            ?? TenantFailure(rotation!.TenantId)
            ?? (State.RotationDocuments.Count >= MaxRotations ? new Failure(ReasonCodes.QuotaExceeded, $"tenant {_tenantId} has rotated {MaxRotations} times; recreate the tenant") : null)
            ?? _trust!.CheckRotation(rotation)
            ?? TenantTrust.CheckSignatureAndTime(rotation.Envelope, Now, _options.ClockSkew);
        if (failure is not null)
        {
            return await RefuseAsync(DocumentResult.Refuse(failure.Code, failure.Message), "root rotation", rotation?.Envelope.SignedBy.Value);
        }

        var text = rotation!.Envelope.CanonicalText;
        if (!await CommitAsync(s => s.RotationDocuments.Add(text), s => s.RotationDocuments.Remove(text),
            Event(SecurityEventTypes.RootRotated, signer: rotation.Envelope.SignedBy.Value, message: $"{rotation.OldRootDid.Value} replaced by {rotation.NewRootDid.Value}")))
        {
            return DocumentResult.Refuse(ReasonCodes.Unavailable, "the rotation could not be stored");
        }

        _trust!.Apply(rotation);
        Log.RootRotated(_logger, _tenantId, rotation.OldRootDid.Value, rotation.NewRootDid.Value);
        return new DocumentResult { Accepted = true };
    }

    public async Task<DocumentResult> SetTenantLimitsAsync(string signedLimits)
    {
        var parsed = LimitsDocument.Parse(signedLimits ?? string.Empty);
        var limits = parsed.Succeeded ? parsed.Value : null;
        var signer = limits?.Envelope.SignedBy;
        var failure = parsed.Failure
            ?? TenantFailure(limits!.TenantId)
            ?? (!signer!.Equals(_operator) && !_trust!.IsRoot(signer) ? new Failure(ReasonCodes.UntrustedSigner, $"tenant limits are set by the operator or a root, not {signer.Value}") : null)
            ?? TenantTrust.CheckSignatureAndTime(limits.Envelope, Now, _options.ClockSkew);
        if (failure is not null)
        {
            return await RefuseAsync(DocumentResult.Refuse(failure.Code, failure.Message), "tenant limits", signer?.Value);
        }

        if (_limits is { } current)
        {
            if (current.Envelope.ContentHash == limits!.Envelope.ContentHash)
            {
                return new DocumentResult { Accepted = true, Unchanged = true };
            }

            if (current.Envelope.IssuedAt >= limits.Envelope.IssuedAt)
            {
                return DocumentResult.Refuse(ReasonCodes.Stale, $"limits issued {DocumentTime.ToText(current.Envelope.IssuedAt)} are in force; a replacement must be issued later");
            }
        }

        var previous = State.LimitsDocument;
        if (!await CommitAsync(s => s.LimitsDocument = limits!.Envelope.CanonicalText, s => s.LimitsDocument = previous,
            Event(SecurityEventTypes.LimitsSet, signer: signer!.Value, message: limits!.Envelope.CanonicalText)))
        {
            return DocumentResult.Refuse(ReasonCodes.Unavailable, "the limits could not be stored");
        }

        _limits = limits;
        _limitsRejected = false;
        Log.TenantLimitsSet(_logger, _tenantId, limits!.Envelope.CanonicalText);
        await GrainFactory.GetGrain<ITenantQuotaGrain>(_tenantId).RefreshAsync();
        return new DocumentResult { Accepted = true };
    }

    public Task<TenantLimits> GetTenantLimitsAsync() => Task.FromResult(
        _limitsRejected ? new TenantLimits { Unavailable = true }
        : _limits is null ? TenantLimits.None
        : ToTenantLimits(_limits));

    private static TenantLimits ToTenantLimits(LimitsDocument limits) => new()
    {
        Limits = ResourceLimits.Names.Where(n => limits.Limits.Get(n) is not null).ToDictionary(n => n, n => limits.Limits.Get(n)!.Value),
        MaxAgents = limits.MaxAgents,
        IssuedAt = limits.Envelope.IssuedAt,
    };

    // ---- Grants ----------------------------------------------------------------------------------------------

    public async Task<GrantVerification> VerifyGrantAsync(string signedGrant)
    {
        var parsed = GrantDocument.Parse(signedGrant ?? string.Empty);
        if (!parsed.Succeeded)
        {
            return Refuse(parsed.Failure!);
        }

        var grant = parsed.Value;
        var (failure, depth) = await CheckGrantAsync(grant, Now);
        return failure is not null ? Refuse(failure) : await RecordAsync(grant, depth);
    }

    public async Task<GrantVerification> VerifyElevationAsync(string requestId, string signedGrant)
    {
        var parsed = GrantDocument.Parse(signedGrant ?? string.Empty);
        if (!parsed.Succeeded)
        {
            return Refuse(parsed.Failure!);
        }

        var grant = parsed.Value;
        var now = Now;
        var request = State.Requests.Find(r => r.RequestId == requestId);
        Failure? failure = request is null || request.Status != PermissionRequestStatus.Pending || request.ExpiresAt <= now
            ? new Failure(ReasonCodes.UnknownRequest, $"no open permission request {requestId} in tenant {_tenantId}")
            : request.AgentId != grant.AgentId
                ? new Failure(ReasonCodes.AgentMismatch, $"request {requestId} is from agent {request.AgentId}, the grant is for {grant.AgentId}")
                : grant.ParentGrantId is not null
                    ? new Failure(ReasonCodes.InvalidField, "an answer to a permission request is signed by a root or admin, not delegated")
                    : State.AcceptedGrants.ContainsKey(grant.GrantId) || grant.IssuedAt < DocumentTime.WholeSeconds(request.RequestedAt)
                        ? new Failure(ReasonCodes.Stale, "an answer to a permission request is a new grant, issued after the request")
                        : grant.ExpiresAt - grant.NotBefore > _options.MaxElevationLifetime
                            ? new Failure(ReasonCodes.Escalation, $"an answer to a permission request lasts at most {_options.MaxElevationLifetime}")
                            : CheckKinds.TryParse(request.Capability, out var kind)
                                ? Attenuation.WithinRequest(kind, request.Resource, grant.Terms)
                                : new Failure(ReasonCodes.UnknownCapability, $"request {requestId} names no known capability");
        if (failure is null)
        {
            (failure, _) = await CheckGrantAsync(grant, now);
        }

        if (failure is not null)
        {
            return Refuse(failure);
        }

        var verification = await RecordAsync(grant, depth: 1, request);
        if (verification.Accepted)
        {
            Log.RequestApproved(_logger, _tenantId, requestId, grant.AgentId, grant.GrantId);
        }

        return verification;
    }

    public async Task<RevocationResult> RevokeAsync(string signedRevocation)
    {
        var parsed = RevocationDocument.Parse(signedRevocation ?? string.Empty);
        var revocation = parsed.Succeeded ? parsed.Value : null;
        var now = Now;
        var failure = parsed.Failure ?? TenantFailure(revocation!.TenantId);
        AcceptedGrant? target = null;
        var signer = revocation?.Envelope.SignedBy;
        var known = failure is null && State.AcceptedGrants.TryGetValue(revocation!.GrantId, out target);
        failure ??= _trust!.IsRootOrAdmin(signer!, now) || (target is not null && target.SignedBy == signer!.Value)
            ? TenantTrust.CheckSignatureAndTime(revocation!.Envelope, now, _options.ClockSkew)
            : new Failure(ReasonCodes.UntrustedSigner, $"a revocation is signed by the grant's signer, a root or an admin; {signer!.Value} is none of them");

        // A grant not applied yet (leaked before use, say) can be revoked ahead by a root or admin. Such an entry has
        // no expiry to go by until the grant shows up, so their number is bounded.
        if (failure is null && !known && !State.RevokedGrants.ContainsKey(revocation!.GrantId) &&
            State.RevokedGrants.Values.Count(r => r.ExpiresAt == DateTimeOffset.MaxValue) >= MaxAdvanceRevocations)
        {
            failure = new Failure(ReasonCodes.QuotaExceeded, $"tenant {_tenantId} holds {MaxAdvanceRevocations} revocations of grants never applied");
        }
        if (failure is not null)
        {
            await RefuseAsync(DocumentResult.Refuse(failure.Code, failure.Message), $"revocation of {revocation?.GrantId}", signer?.Value);
            return new RevocationResult { Error = failure.Code, Message = failure.Message };
        }

        // The grant and everything delegated from it, transitively, as far as this tenant accepted them.
        var revoked = Descendants(revocation!.GrantId);
        var added = revoked.Where(id => !State.RevokedGrants.ContainsKey(id)).ToList();
        if (added.Count > 0)
        {
            var record = (string id) => new RevokedGrant
            {
                RevokedAt = now,
                ExpiresAt = State.AcceptedGrants.TryGetValue(id, out var g) ? g.ExpiresAt : DateTimeOffset.MaxValue,
                Reason = revocation.Reason,
                RevokedBy = signer!.Value,
            };
            var events = added.Select(id => Event(SecurityEventTypes.GrantRevoked, State.AcceptedGrants.GetValueOrDefault(id)?.AgentId, id, signer!.Value, ReasonCodes.Revoked, revocation.Reason)).ToArray();
            if (!await CommitAsync(s => added.ForEach(id => s.RevokedGrants[id] = record(id)), s => added.ForEach(id => s.RevokedGrants.Remove(id)), events))
            {
                return new RevocationResult { Error = ReasonCodes.Unavailable, Message = "the revocation could not be stored; nothing was revoked" };
            }
        }

        Log.GrantsRevoked(_logger, _tenantId, revocation.GrantId, revoked.Count, signer!.Value);
        var (agents, propagated) = await NotifyAgentsAsync(revoked);
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

    public Task<IReadOnlyList<StoredGrantStatus>> ConfirmStoredGrantsAsync(IReadOnlyList<StoredGrantRef> grants) =>
        Task.FromResult<IReadOnlyList<StoredGrantStatus>>(grants.Select(g => new StoredGrantStatus(g.GrantId,
            State.RevokedGrants.ContainsKey(g.GrantId) ? StoredGrantState.Revoked
            : State.AcceptedGrants.TryGetValue(g.GrantId, out var accepted) && accepted.ContentHash == g.ContentHash ? StoredGrantState.Accepted
            : StoredGrantState.Unknown)).ToArray());

    public Task<IReadOnlyList<string>> FindRevokedAsync(IReadOnlyList<string> grantIds) =>
        Task.FromResult<IReadOnlyList<string>>(grantIds.Where(State.RevokedGrants.ContainsKey).ToArray());

    public Task<GrantVerification> VerifyQuarantineAsync(string signedQuarantine)
    {
        var parsed = QuarantineDocument.Parse(signedQuarantine ?? string.Empty);
        var document = parsed.Succeeded ? parsed.Value : null;
        var now = Now;
        var failure = parsed.Failure
            ?? TenantFailure(document!.TenantId)
            ?? (!_trust!.IsRootOrAdmin(document.Envelope.SignedBy, now) ? _trust.Untrusted(document.Envelope.SignedBy, now) : null)
            ?? TenantTrust.CheckSignatureAndTime(document.Envelope, now, _options.ClockSkew);
        return Task.FromResult(failure is null ? GrantVerification.Accept : Refuse(failure));
    }

    // ---- Permission requests ---------------------------------------------------------------------------------

    public async Task<PermissionRequestResult> RecordRequestAsync(string agentId, PermissionRequestInput request)
    {
        var now = Now;
        if (_trust is null)
        {
            return new PermissionRequestResult { Error = ReasonCodes.UnknownTenant, Message = $"tenant {_tenantId} does not exist" };
        }

        var pending = ExpireRequests(now).Where(r => r.Status == PermissionRequestStatus.Pending).ToList();
        if (pending.Count(r => r.AgentId == agentId) >= _options.MaxPendingRequestsPerAgent || pending.Count >= _options.MaxPendingRequestsPerTenant)
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
            ExpiresAt = now + _options.PermissionRequestLifetime,
            Status = PermissionRequestStatus.Pending,
        };
        if (!await CommitAsync(s => { s.Requests.Add(record); s.NextRequestNumber++; }, s => { s.Requests.Remove(record); s.NextRequestNumber--; },
            Event(SecurityEventTypes.RequestCreated, agentId, message: $"{record.RequestId}: {request.Justification}") with { Capability = request.Capability, Resource = request.Resource }))
        {
            return new PermissionRequestResult { Error = ReasonCodes.Unavailable, Message = "the request could not be stored" };
        }

        Log.PermissionRequested(_logger, _tenantId, record.RequestId, agentId, request.Capability);
        return new PermissionRequestResult { Recorded = true, RequestId = record.RequestId, ExpiresAt = record.ExpiresAt };
    }

    public Task<IReadOnlyList<PermissionRequestInfo>> ListRequestsAsync() =>
        Task.FromResult<IReadOnlyList<PermissionRequestInfo>>(ExpireRequests(Now).OrderByDescending(r => r.RequestedAt).Select(r => new PermissionRequestInfo
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
        }).ToArray());

    // ---- Grant verification ----------------------------------------------------------------------------------

    /// <summary>Every rule a grant must meet, cheapest first; the grant's delegation depth when it passes.</summary>
    private async Task<(Failure? Failure, int Depth)> CheckGrantAsync(GrantDocument grant, DateTimeOffset now)
    {
        var failure = TenantFailure(grant.TenantId);
        if (failure is null && State.RevokedGrants.TryGetValue(grant.GrantId, out var revoked))
        {
            // A revocation made ahead of use lasts until the grant it names would have expired, now known.
            if (revoked.ExpiresAt == DateTimeOffset.MaxValue && DocumentChecks.Signature(grant.Envelope) is null)
            {
                revoked.ExpiresAt = grant.ExpiresAt; // persisted with the next write; erring late is harmless
            }

            failure = new Failure(ReasonCodes.Revoked, $"grant {grant.GrantId} was revoked");
        }

        if (failure is not null)
        {
            return (failure, 0);
        }

        // The signature first: a grant altered after signing is bad_signature, whatever else is wrong with it.
        if (DocumentChecks.Signature(grant.Envelope) is { } badSignature)
        {
            return (badSignature, 0);
        }

        // A grant this tenant accepted before (re-applied, or signed by a root that has since rotated away) was
        // judged then; its time window is still checked.
        var accepted = State.AcceptedGrants.GetValueOrDefault(grant.GrantId);
        if (accepted is not null && accepted.ContentHash != grant.Envelope.ContentHash)
        {
            return (new Failure(ReasonCodes.Replayed, $"grant id {grant.GrantId} was already used for a different grant"), 0);
        }

        var depth = accepted?.Depth ?? 1;
        if (accepted is null && CapacityFailure(grant.AgentId, now) is { } full)
        {
            return (full, 0);
        }

        if (accepted is null)
        {
            (failure, depth) = grant.ParentGrantId is { } parentId
                ? await CheckDelegationAsync(grant, parentId, now)
                : (CheckSigner(grant, now), 1);
        }

        return (failure ?? DocumentChecks.GrantTimeWindow(grant, now, _options.ClockSkew), depth);
    }

    /// <summary>
    /// Bounds on what one tenant can make the cluster keep: agents holding live grants (the tenant's
    /// <c>maxAgents</c>, else <see cref="LimitsDocument.DefaultMaxAgents"/>) and live grants in all.
    /// </summary>
    private Failure? CapacityFailure(string agentId, DateTimeOffset now)
    {
        var live = State.AcceptedGrants.Values.Where(g => g.ExpiresAt > now).ToList();
        if (live.Count >= _options.MaxLiveGrantsPerTenant)
        {
            return new Failure(ReasonCodes.QuotaExceeded, $"tenant {_tenantId} has {live.Count} live grants, the most allowed");
        }

        var maxAgents = _limits?.MaxAgents ?? LimitsDocument.DefaultMaxAgents;
        var agents = live.Select(g => g.AgentId).ToHashSet(StringComparer.Ordinal);
        return !agents.Contains(agentId) && agents.Count >= maxAgents
            ? new Failure(ReasonCodes.QuotaExceeded, $"tenant {_tenantId} has {agents.Count} agents with grants, the most its limits allow")
            : null;
    }

    /// <summary>A grant that is not a delegation is signed by a root, or by an admin within its ceiling and lifetime.</summary>
    private Failure? CheckSigner(GrantDocument grant, DateTimeOffset now)
    {
        if (_trust!.IsRoot(grant.SignedBy))
        {
            return null;
        }

        if (_trust.ActiveAdmin(grant.SignedBy, now) is not { } admin)
        {
            return _trust.Untrusted(grant.SignedBy, now);
        }

        return Attenuation.WithinCeiling(admin.Ceiling, admin.CeilingLimits, grant.Terms, _platform)
            ?? (grant.ExpiresAt > admin.ExpiresAt
                ? new Failure(ReasonCodes.Escalation, $"the grant outlives its admin's registration ({DocumentTime.ToText(admin.ExpiresAt)})")
                : null);
    }

    /// <summary>
    /// A delegation is signed by its parent's agentDid, within the parent, from a parent that is live (accepted,
    /// not revoked, not expired, still its agent's active grant), at most <see cref="MaxChainDepth"/> grants deep.
    /// </summary>
    private async Task<(Failure? Failure, int Depth)> CheckDelegationAsync(GrantDocument grant, string parentId, DateTimeOffset now)
    {
        if (!State.AcceptedGrants.TryGetValue(parentId, out var parent))
        {
            return (new Failure(ReasonCodes.UnknownGrant, $"the parent grant {parentId} is not a live grant of tenant {_tenantId}"), 0);
        }

        var failure = State.RevokedGrants.ContainsKey(parentId) ? new Failure(ReasonCodes.Revoked, $"the parent grant {parentId} was revoked")
            : parent.ExpiresAt <= now ? new Failure(ReasonCodes.Expired, $"the parent grant {parentId} expired at {DocumentTime.ToText(parent.ExpiresAt)}")
            : parent.AgentDid is null ? new Failure(ReasonCodes.UntrustedSigner, $"the parent grant {parentId} names no agentDid, so it cannot be delegated")
            : parent.AgentDid != grant.SignedBy.Value ? new Failure(ReasonCodes.UntrustedSigner, $"a delegation of {parentId} is signed by its agentDid {parent.AgentDid}, not {grant.SignedBy.Value}")
            : parent.Depth + 1 > MaxChainDepth ? new Failure(ReasonCodes.ChainTooDeep, $"the chain would be {parent.Depth + 1} grants deep; at most {MaxChainDepth}")
            : null;
        if (failure is not null)
        {
            return (failure, 0);
        }

        // The parent's terms live with the parent's agent, the only holder of its active grant.
        var parentText = await GrainFactory.GetGrain<IAgentGrain>(AgentKey.Of(_tenantId, parent.AgentId)).GetActiveGrantAsync(parentId);
        if (parentText is null)
        {
            return (new Failure(ReasonCodes.Stale, $"the parent grant {parentId} is no longer the active grant of {parent.AgentId}"), 0);
        }

        var parentGrant = GrantDocument.Parse(parentText);
        if (!parentGrant.Succeeded || parentGrant.Value.Envelope.ContentHash != parent.ContentHash)
        {
            return (new Failure(ReasonCodes.Unavailable, $"the parent grant {parentId} held by {parent.AgentId} does not match what this tenant accepted"), 0);
        }

        return (Attenuation.WithinParent(parentGrant.Value.Terms, grant.Terms, _platform), parent.Depth + 1);
    }

    /// <summary>Records an accepted grant's id (and answers a request), pruning what has expired; nothing changes if the write fails.</summary>
    private async Task<GrantVerification> RecordAsync(GrantDocument grant, int depth, PermissionRequestRecord? request = null)
    {
        var now = Now;
        var accepted = State.AcceptedGrants;
        if (accepted.ContainsKey(grant.GrantId) && request is null)
        {
            return GrantVerification.Accept; // the identical grant again: nothing new to record
        }

        var expiredGrants = accepted.Where(p => p.Value.ExpiresAt <= now).ToList();
        var expiredRevocations = State.RevokedGrants.Where(p => p.Value.ExpiresAt <= now).ToList();
        var entry = new AcceptedGrant
        {
            ContentHash = grant.Envelope.ContentHash,
            AgentId = grant.AgentId,
            ExpiresAt = grant.ExpiresAt,
            SignedBy = grant.SignedBy.Value,
            ParentGrantId = grant.ParentGrantId,
            AgentDid = grant.AgentDid?.Value,
            Depth = depth,
        };
        var approved = request is null ? [] : new SecurityEvent[]
        {
            Event(SecurityEventTypes.RequestApproved, grant.AgentId, grant.GrantId, grant.SignedBy.Value, ReasonCodes.Allowed, $"{request.RequestId} answered by {grant.GrantId}") with { Capability = request.Capability, Resource = request.Resource },
        };
        var committed = await CommitAsync(
            s =>
            {
                expiredGrants.ForEach(p => s.AcceptedGrants.Remove(p.Key));
                expiredRevocations.ForEach(p => s.RevokedGrants.Remove(p.Key));
                s.AcceptedGrants[grant.GrantId] = entry;
                if (request is not null)
                {
                    request.Status = PermissionRequestStatus.Approved;
                    request.GrantId = grant.GrantId;
                }
            },
            s =>
            {
                s.AcceptedGrants.Remove(grant.GrantId);
                expiredGrants.ForEach(p => s.AcceptedGrants[p.Key] = p.Value);
                expiredRevocations.ForEach(p => s.RevokedGrants[p.Key] = p.Value);
                if (request is not null)
                {
                    request.Status = PermissionRequestStatus.Pending;
                    request.GrantId = null;
                }
            },
            approved);
        return committed ? GrantVerification.Accept : GrantVerification.Refuse(ReasonCodes.Unavailable, "the issuer could not record the grant");
    }

    private List<string> Descendants(string grantId)
    {
        var result = new List<string> { grantId };
        var seen = new HashSet<string>(StringComparer.Ordinal) { grantId };
        for (var i = 0; i < result.Count; i++)
        {
            foreach (var (id, grant) in State.AcceptedGrants)
            {
                if (grant.ParentGrantId == result[i] && seen.Add(id))
                {
                    result.Add(id);
                }
            }
        }

        return result;
    }

    /// <summary>Tells every agent holding one of the grants; the agents confirm with this issuer before acting.</summary>
    private async Task<(IReadOnlyList<string> Agents, bool Propagated)> NotifyAgentsAsync(IReadOnlyList<string> grantIds)
    {
        var targets = grantIds
            .Where(State.AcceptedGrants.ContainsKey)
            .Select(id => (Agent: AgentKey.Of(_tenantId, State.AcceptedGrants[id].AgentId), GrantId: id))
            .ToList();
        var results = await Task.WhenAll(targets.Select(async t =>
        {
            try
            {
                await GrainFactory.GetGrain<IAgentGrain>(t.Agent).NotifyRevokedAsync(t.GrantId);
                return true;
            }
#pragma warning disable CA1031 // An agent that cannot be told learns the revocation when it next activates.
            catch (Exception e)
#pragma warning restore CA1031
            {
                Log.RevocationNotDelivered(_logger, e, _tenantId, t.Agent, t.GrantId);
                return false;
            }
        }));
        return (targets.Select(t => t.Agent).Distinct().ToArray(), results.All(r => r));
    }

    private List<PermissionRequestRecord> ExpireRequests(DateTimeOffset now)
    {
        foreach (var request in State.Requests.Where(r => r.Status == PermissionRequestStatus.Pending && r.ExpiresAt <= now))
        {
            request.Status = PermissionRequestStatus.Expired; // persisted with the next write; reads agree meanwhile
        }

        // Answered and expired requests stay visible for a while, bounded like the open ones.
        var closed = State.Requests.Where(r => r.Status != PermissionRequestStatus.Pending).OrderByDescending(r => r.RequestedAt).Skip(_options.MaxPendingRequestsPerTenant).ToList();
        closed.ForEach(r => State.Requests.Remove(r));
        return State.Requests;
    }

    private Failure? TenantFailure(string tenantId) =>
        _trust is null ? new Failure(ReasonCodes.UnknownTenant, $"tenant {_tenantId} does not exist")
        : tenantId != _tenantId ? new Failure(ReasonCodes.TenantMismatch, $"the document is for tenant {tenantId}, not {_tenantId}")
        : null;

    /// <summary>
    /// Applies a change, writes it with its security events (the outbox), and undoes both if the write fails: nothing
    /// half-applied. Once written, the events are published before the caller hears of the change.
    /// </summary>
    private async Task<bool> CommitAsync(Action<IssuerGrainState> change, Action<IssuerGrainState> undo, params SecurityEvent[] events)
    {
        change(State);
        var pending = events.Select(SecurityEventJson.Write).ToList();
        State.PendingEvents.AddRange(pending);
        try
        {
            await _state.WriteStateAsync();
            await FlushOutboxAsync();
            return true;
        }
#pragma warning disable CA1031 // Any storage failure refuses the change; the caller gets unavailable.
        catch (Exception e)
#pragma warning restore CA1031
        {
            undo(State);
            pending.ForEach(p => State.PendingEvents.Remove(p));
            Log.IssuerNotPersisted(_logger, e, _tenantId);
            DeactivateOnIdle(); // the stored ETag may be stale now; a fresh activation reads the truth
            return false;
        }
    }

    /// <summary>How often an outbox that could not be published is tried again while the grain is active.</summary>
    private static readonly TimeSpan OutboxRetryInterval = TimeSpan.FromSeconds(5);

    private IGrainTimer? _outboxRetry;

    private async Task FlushOutboxAsync()
    {
        if (State.PendingEvents.Count == 0)
        {
            return;
        }

        try
        {
            await _audit.PublishAsync(_tenantId, State.PendingEvents.Select(SecurityEventJson.Read).ToList());
            State.PendingEvents.Clear();
            _outboxRetry?.Dispose();
            _outboxRetry = null;
        }
#pragma warning disable CA1031 // The events stay in the (stored) outbox: retried while active, and by the next activation.
        catch (Exception e)
#pragma warning restore CA1031
        {
            Log.AuditPublishFailed(_logger, e, _tenantId);
            _outboxRetry ??= this.RegisterGrainTimer(_ => FlushOutboxAsync(),
                new GrainTimerCreationOptions(OutboxRetryInterval, OutboxRetryInterval) { Interleave = false, KeepAlive = true });
        }
    }

    /// <summary>A refused document is an event in the tenant's log, if the tenant exists (else there is no log for it).</summary>
    private async Task<DocumentResult> RefuseAsync(DocumentResult refusal, string what, string? signer)
    {
        if (_trust is not null)
        {
            try
            {
                await _audit.PublishAsync(_tenantId, [Event(SecurityEventTypes.GrantRefused, signer: signer, reason: refusal.Error, message: $"{what} refused: {refusal.Message}")]);
            }
#pragma warning disable CA1031 // The refusal stands; its event is logged as lost.
            catch (Exception e)
#pragma warning restore CA1031
            {
                Log.AuditPublishFailed(_logger, e, _tenantId);
            }
        }

        return refusal;
    }

    private AdministrativeEvent Event(string type, string? agentId = null, string? grantId = null, string? signer = null, string? reason = null, string? message = null) =>
        _audit.Stamp(new AdministrativeEvent
        {
            Id = string.Empty,
            Type = type,
            TenantId = _tenantId,
            AgentId = agentId,
            GrantId = grantId,
            SignerDid = signer,
            Reason = reason,
            Message = message,
        });

    private static GrantVerification Refuse(Failure failure) => GrantVerification.Refuse(failure.Code, failure.Message);
}

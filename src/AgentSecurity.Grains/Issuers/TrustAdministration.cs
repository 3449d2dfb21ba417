using AgentSecurity.Abstractions;
using AgentSecurity.Abstractions.Audit;
using AgentSecurity.Grains.Outbox;
using AgentSecurity.Grains.Telemetry;
using AgentSecurity.Grants;
using AgentSecurity.Grants.Documents;
using AgentSecurity.Grants.Identity;
using Microsoft.Extensions.Logging;

namespace AgentSecurity.Grains.Issuers;

/// <summary>
/// The documents that say who signs for a tenant: the operator's tenant document, rotations of its roots, and admins
/// registered by a root. Keeps the <see cref="TenantTrust"/> they add up to, by which the rest of the issuer judges
/// every signer.
/// </summary>
internal sealed class TrustAdministration(
    StateOutbox<IssuerGrainState> outbox,
    IssuerEvents events,
    CallerChanges callers,
    DidKey operatorDid,
    TimeProvider time,
    AgentSecurityOptions options,
    string tenantId,
    ILogger logger)
{
    /// <summary>Rotations kept per tenant: the trust history is replayed on every activation, so it stays short.</summary>
    public const int MaxRotations = 64;

    /// <summary>Who signs for the tenant; null while it does not exist, or when its stored documents failed verification.</summary>
    public TenantTrust? Trust { get; private set; }

    private IssuerGrainState State => outbox.State;

    private DateTimeOffset Now => time.GetUtcNow();

    /// <summary>Rebuilds trust from storage on activation; stored documents that fail verification leave the tenant without any.</summary>
    public void Load()
    {
        if (State.TenantDocument is not { } tenant)
        {
            return;
        }

        Trust = TenantTrust.Load(tenant, operatorDid, State.RotationDocuments, State.AdminDocuments.Values);
        if (Trust is null)
        {
            Log.IssuerStateRejected(logger, tenantId);
        }
    }

    /// <summary>The trust that judges a document naming <paramref name="documentTenantId"/>: the tenant must exist and be this one.</summary>
    public Result<TenantTrust> TrustFor(string documentTenantId)
    {
        if (Trust is not { } trust)
        {
            return new Failure(ReasonCodes.UnknownTenant, $"tenant {tenantId} does not exist");
        }

        if (documentTenantId != tenantId)
        {
            return new Failure(ReasonCodes.TenantMismatch, $"the document is for tenant {documentTenantId}, not {tenantId}");
        }

        return Result<TenantTrust>.Ok(trust);
    }

    /// <summary>A refused document is an event in the tenant's log, if the tenant exists (else there is no log for it).</summary>
    public async Task<DocumentResult> RefuseAsync(Failure failure, string what, string? signer)
    {
        if (Trust is not null)
        {
            await events.PublishRefusalAsync(failure, what, signer);
        }

        return DocumentResult.Refuse(failure.Code, failure.Message);
    }

    public async Task<TenantResult> CreateTenantAsync(string signedTenant)
    {
        var parsed = TenantDocument.Parse(signedTenant);
        if (!parsed.TryGetValue(out var tenant))
        {
            return RefuseTenant(parsed.Failure);
        }

        if (CheckTenant(tenant) is { } failure)
        {
            return RefuseTenant(failure);
        }

        if (State.TenantDocument is not null)
        {
            return Trust?.Tenant.Envelope.ContentHash == tenant.Envelope.ContentHash
                ? new TenantResult { Created = true, Unchanged = true, TenantId = tenantId }
                : new TenantResult { TenantId = tenantId, Error = ReasonCodes.TenantExists, Message = $"tenant {tenantId} already exists" };
        }

        var created = events.Make(SecurityEventTypes.TenantCreated, signer: tenant.Envelope.SignedBy.Value, message: $"roots: {string.Join(", ", tenant.RootDids.Select(d => d.Value))}");
        if (!await outbox.CommitAsync(s => s.TenantDocument = tenant.Envelope.CanonicalText, created))
        {
            return new TenantResult { TenantId = tenantId, Error = ReasonCodes.Unavailable, Message = "the tenant could not be stored" };
        }

        Trust = TenantTrust.From(tenant);
        await callers.TellSilosAsync();
        Log.TenantCreated(logger, tenantId, tenant.RootDids.Count);
        return new TenantResult { Created = true, TenantId = tenantId };
    }

    public TenantInfo? GetTenant() => Trust is not { } trust ? null : new TenantInfo
    {
        TenantId = tenantId,
        RootDids = trust.Roots.Select(d => d.Value).Order(StringComparer.Ordinal).ToArray(),
        IssuedAt = trust.Tenant.Envelope.IssuedAt,
        Admins = trust.Admins.Values.Select(a => new AdminInfo { AdminDid = a.AdminDid.Value, ExpiresAt = a.ExpiresAt, SignedBy = a.Envelope.SignedBy.Value }).ToArray(),
        RetiredRootDids = trust.RetiredRoots.Keys.Select(d => d.Value).ToArray(),
    };

    public async Task<DocumentResult> RegisterAdminAsync(string signedAdmin)
    {
        const string What = "admin registration";
        var parsed = AdminDocument.Parse(signedAdmin);
        if (!parsed.TryGetValue(out var admin))
        {
            return await RefuseAsync(parsed.Failure, What, signer: null);
        }

        var now = Now;
        var signer = admin.Envelope.SignedBy;
        var trusted = TrustFor(admin.TenantId);
        if (!trusted.TryGetValue(out var trust))
        {
            return await RefuseAsync(trusted.Failure, What, signer.Value);
        }

        if (CheckAdmin(admin, trust, now) is { } failure)
        {
            return await RefuseAsync(failure, What, signer.Value);
        }

        var key = admin.AdminDid.Value;
        var existing = trust.Admins.GetValueOrDefault(admin.AdminDid);
        if (existing?.Envelope.ContentHash == admin.Envelope.ContentHash)
        {
            return new DocumentResult { Accepted = true, Unchanged = true };
        }

        if (State.AdminFloor is { } floor && admin.Envelope.IssuedAt <= floor)
        {
            return DocumentResult.Refuse(ReasonCodes.Stale, $"registrations issued at or before {DocumentTime.ToText(floor)} were forgotten with the expired admins; sign a new one");
        }

        if (existing is not null && existing.Envelope.IssuedAt > admin.Envelope.IssuedAt)
        {
            return DocumentResult.Refuse(ReasonCodes.Stale, $"a newer registration of {key} (issued {DocumentTime.ToText(existing.Envelope.IssuedAt)}) is in force");
        }

        if (existing is null && trust.Admins.Values.Count(a => a.ExpiresAt > now) >= options.MaxAdminsPerTenant)
        {
            return DocumentResult.Refuse(ReasonCodes.QuotaExceeded, $"tenant {tenantId} has {options.MaxAdminsPerTenant} admins already");
        }

        // Expired registrations of other admins go with this write, so the map holds the admins in force and no more.
        var expired = trust.Admins.Values.Where(a => a.ExpiresAt <= now && a.AdminDid != admin.AdminDid).ToList();
        var registered = events.Make(SecurityEventTypes.AdminRegistered, signer: signer.Value, message: $"admin {key} until {DocumentTime.ToText(admin.ExpiresAt)}");
        if (!await outbox.CommitAsync(s => Register(s, admin, expired), registered))
        {
            return DocumentResult.Refuse(ReasonCodes.Unavailable, "the admin could not be stored");
        }

        expired.ForEach(a => trust.Forget(a.AdminDid));
        trust.Register(admin);
        await callers.TellSilosAsync();
        Log.AdminRegistered(logger, tenantId, key, admin.ExpiresAt);
        return new DocumentResult { Accepted = true };
    }

    public async Task<DocumentResult> RotateRootAsync(string signedRotation)
    {
        const string What = "root rotation";
        var parsed = RotationDocument.Parse(signedRotation);
        if (!parsed.TryGetValue(out var rotation))
        {
            return await RefuseAsync(parsed.Failure, What, signer: null);
        }

        var text = rotation.Envelope.CanonicalText;
        if (State.RotationDocuments.Contains(text, StringComparer.Ordinal))
        {
            return new DocumentResult { Accepted = true, Unchanged = true };
        }

        var signer = rotation.Envelope.SignedBy.Value;
        var trusted = TrustFor(rotation.TenantId);
        if (!trusted.TryGetValue(out var trust))
        {
            return await RefuseAsync(trusted.Failure, What, signer);
        }

        if (CheckRotation(rotation, trust) is { } failure)
        {
            return await RefuseAsync(failure, What, signer);
        }

        var rotated = events.Make(SecurityEventTypes.RootRotated, signer: signer, message: $"{rotation.OldRootDid.Value} replaced by {rotation.NewRootDid.Value}");
        if (!await outbox.CommitAsync(s => s.RotationDocuments.Add(text), rotated))
        {
            return DocumentResult.Refuse(ReasonCodes.Unavailable, "the rotation could not be stored");
        }

        trust.Apply(rotation);
        await callers.TellSilosAsync();
        Log.RootRotated(logger, tenantId, rotation.OldRootDid.Value, rotation.NewRootDid.Value);
        return new DocumentResult { Accepted = true };
    }

    /// <summary>Whether a quarantine of one of the tenant's agents is signed, validly and now, by a root or admin.</summary>
    public GrantVerification VerifyQuarantine(string signedQuarantine) =>
        CheckQuarantine(signedQuarantine) is { } failure ? GrantVerification.Refuse(failure.Code, failure.Message) : GrantVerification.Accept;

    private TenantResult RefuseTenant(Failure failure)
    {
        Log.TenantRefused(logger, tenantId, failure.Code, failure.Message);
        return new TenantResult { TenantId = tenantId, Error = failure.Code, Message = failure.Message };
    }

    /// <summary>A tenant is created by the operator, for this tenant id, signed validly and now.</summary>
    private Failure? CheckTenant(TenantDocument tenant)
    {
        if (tenant.TenantId != tenantId)
        {
            return new Failure(ReasonCodes.TenantMismatch, $"the document is for tenant {tenant.TenantId}, not {tenantId}");
        }

        var signer = tenant.Envelope.SignedBy;
        if (!signer.Equals(operatorDid))
        {
            return new Failure(ReasonCodes.UntrustedSigner, $"tenants are created by the operator {operatorDid.Value}, not {signer.Value}");
        }

        return TenantTrust.CheckSignatureAndTime(tenant.Envelope, Now, options.ClockSkew);
    }

    /// <summary>An admin is registered by a root, signed validly and now, until a time still ahead.</summary>
    private Failure? CheckAdmin(AdminDocument admin, TenantTrust trust, DateTimeOffset now)
    {
        var signer = admin.Envelope.SignedBy;
        if (!trust.IsRoot(signer))
        {
            var untrusted = trust.Untrusted(signer, now);
            return untrusted with { Message = $"admins are registered by a root: {untrusted.Message}" };
        }

        if (TenantTrust.CheckSignatureAndTime(admin.Envelope, now, options.ClockSkew) is { } invalid)
        {
            return invalid;
        }

        if (admin.ExpiresAt <= now)
        {
            return new Failure(ReasonCodes.Expired, $"the admin registration expired at {DocumentTime.ToText(admin.ExpiresAt)}");
        }

        return null;
    }

    private Failure? CheckRotation(RotationDocument rotation, TenantTrust trust)
    {
        if (State.RotationDocuments.Count >= MaxRotations)
        {
            return new Failure(ReasonCodes.QuotaExceeded, $"tenant {tenantId} has rotated {MaxRotations} times; recreate the tenant");
        }

        return trust.CheckRotation(rotation) ?? TenantTrust.CheckSignatureAndTime(rotation.Envelope, Now, options.ClockSkew);
    }

    private Failure? CheckQuarantine(string signedQuarantine)
    {
        var parsed = QuarantineDocument.Parse(signedQuarantine);
        if (!parsed.TryGetValue(out var quarantine))
        {
            return parsed.Failure;
        }

        var trusted = TrustFor(quarantine.TenantId);
        if (!trusted.TryGetValue(out var trust))
        {
            return trusted.Failure;
        }

        var now = Now;
        var signer = quarantine.Envelope.SignedBy;
        if (!trust.IsRootOrAdmin(signer, now))
        {
            return trust.Untrusted(signer, now);
        }

        return TenantTrust.CheckSignatureAndTime(quarantine.Envelope, now, options.ClockSkew);
    }

    /// <summary>The registration, and the forgetting of <paramref name="expired"/> ones below a floor that refuses their replay.</summary>
    private static void Register(IssuerGrainState state, AdminDocument admin, List<AdminDocument> expired)
    {
        expired.ForEach(a => state.AdminDocuments.Remove(a.AdminDid.Value));
        state.AdminFloor = expired.Select(a => (DateTimeOffset?)a.Envelope.IssuedAt).Append(state.AdminFloor).Max();
        state.AdminDocuments[admin.AdminDid.Value] = admin.Envelope.CanonicalText;
    }
}

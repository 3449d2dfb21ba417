using AgentSecurity.Grants;
using AgentSecurity.Grants.Documents;
using AgentSecurity.Grants.Identity;
using AgentSecurity.Grants.Verification;

namespace AgentSecurity.Grains.Issuers;

/// <summary>
/// Who may sign for a tenant, derived from its signed documents: the roots of the tenant document as changed by each
/// rotation, and the admins registered by roots. Rebuilt from the stored documents, signatures checked, whenever the
/// issuer activates, so storage altered behind the cluster's back cannot add a signer.
/// </summary>
internal sealed class TenantTrust
{
    private readonly HashSet<DidKey> _roots;
    private readonly Dictionary<DidKey, DateTimeOffset> _retiredRoots = [];
    private readonly Dictionary<DidKey, AdminDocument> _admins = [];

    private TenantTrust(TenantDocument tenant)
    {
        Tenant = tenant;
        _roots = [.. tenant.RootDids];
    }

    public TenantDocument Tenant { get; }

    public IReadOnlyCollection<DidKey> Roots => _roots;

    public IReadOnlyDictionary<DidKey, DateTimeOffset> RetiredRoots => _retiredRoots;

    public IReadOnlyDictionary<DidKey, AdminDocument> Admins => _admins;

    /// <summary>Rebuilds trust from stored documents; null if any of them fails to verify (the issuer then refuses everything).</summary>
    public static TenantTrust? Load(string tenantDocument, DidKey operatorDid, IEnumerable<string> rotations, IEnumerable<string> admins)
    {
        var tenant = TenantDocument.Parse(tenantDocument);
        if (!tenant.Succeeded || !tenant.Value.Envelope.SignedBy.Equals(operatorDid) || !tenant.Value.Envelope.HasValidSignature())
        {
            return null;
        }

        var trust = new TenantTrust(tenant.Value);
        var tenantId = tenant.Value.TenantId;
        foreach (var text in rotations)
        {
            var rotation = RotationDocument.Parse(text);
            if (!rotation.Succeeded || rotation.Value.TenantId != tenantId || trust.CheckRotation(rotation.Value) is not null || !rotation.Value.Envelope.HasValidSignature())
            {
                return null;
            }

            trust.Apply(rotation.Value);
        }

        foreach (var text in admins)
        {
            var admin = AdminDocument.Parse(text);
            // An admin whose registering root has since rotated away stays registered: rotation does not undo what
            // the old root did while it was a root. But it must have been registered by one of the tenant's roots.
            if (!admin.Succeeded || admin.Value.TenantId != tenantId || !trust.WasRoot(admin.Value.Envelope.SignedBy) || !admin.Value.Envelope.HasValidSignature())
            {
                return null;
            }

            trust._admins[admin.Value.AdminDid] = admin.Value;
        }

        return trust;
    }

    public static TenantTrust From(TenantDocument tenant) => new(tenant);

    public bool IsRoot(DidKey did) => _roots.Contains(did);

    /// <summary>A root now or before a rotation.</summary>
    public bool WasRoot(DidKey did) => _roots.Contains(did) || _retiredRoots.ContainsKey(did);

    /// <summary>The admin registration of a DID if it is in force now.</summary>
    public AdminDocument? ActiveAdmin(DidKey did, DateTimeOffset now) =>
        _admins.TryGetValue(did, out var admin) && admin.ExpiresAt > now ? admin : null;

    /// <summary>Whether a DID may sign administrative documents (revocations, quarantines) now.</summary>
    public bool IsRootOrAdmin(DidKey did, DateTimeOffset now) => IsRoot(did) || ActiveAdmin(did, now) is not null;

    /// <summary>Why a DID that is neither a root nor an active admin may not sign, for the refusal's message.</summary>
    public Failure Untrusted(DidKey did, DateTimeOffset now)
    {
        if (_retiredRoots.TryGetValue(did, out var retiredAt))
        {
            return new Failure(ReasonCodes.UntrustedSigner, $"{did.Value} stopped being a root of {Tenant.TenantId} at {DocumentTime.ToText(retiredAt)} (rotation) and signs nothing new");
        }

        return _admins.TryGetValue(did, out var admin)
            ? new Failure(ReasonCodes.UntrustedSigner, $"the admin registration of {did.Value} expired at {DocumentTime.ToText(admin.ExpiresAt)}")
            : new Failure(ReasonCodes.UntrustedSigner, $"{did.Value} is neither a root nor an admin of tenant {Tenant.TenantId}");
    }

    /// <summary>The rules a rotation must meet besides its signature.</summary>
    public Failure? CheckRotation(RotationDocument rotation)
    {
        if (!rotation.Envelope.SignedBy.Equals(rotation.OldRootDid))
        {
            return new Failure(ReasonCodes.UntrustedSigner, "a rotation is signed by the old root it replaces");
        }

        if (!IsRoot(rotation.OldRootDid))
        {
            return new Failure(ReasonCodes.UntrustedSigner, $"{rotation.OldRootDid.Value} is not a root of tenant {Tenant.TenantId}");
        }

        if (IsRoot(rotation.NewRootDid) || _retiredRoots.ContainsKey(rotation.NewRootDid))
        {
            return new Failure(ReasonCodes.InvalidField, $"{rotation.NewRootDid.Value} is or was already a root of tenant {Tenant.TenantId}");
        }

        return null;
    }

    public void Apply(RotationDocument rotation)
    {
        _roots.Remove(rotation.OldRootDid);
        _roots.Add(rotation.NewRootDid);
        _retiredRoots[rotation.OldRootDid] = rotation.Envelope.IssuedAt;
    }

    public void Register(AdminDocument admin) => _admins[admin.AdminDid] = admin;

    public void Forget(DidKey admin) => _admins.Remove(admin);

    public static Failure? CheckSignatureAndTime(SignedDocument document, DateTimeOffset now, TimeSpan skew) =>
        DocumentChecks.Signature(document) ?? DocumentChecks.TimeWindow(document.IssuedAt, document.IssuedAt, null, now, skew);
}

using AgentSecurity.Abstractions;
using AgentSecurity.Abstractions.Audit;
using AgentSecurity.Abstractions.Boundary;
using AgentSecurity.Grains.Outbox;
using AgentSecurity.Grants;
using AgentSecurity.Grants.Access;
using AgentSecurity.Grants.Documents;

namespace AgentSecurity.Grains.Issuers;

/// <summary>
/// Who may call the cluster for this tenant besides the operator: its roots and admins in force, and the principals its
/// access documents name. Access documents are signed by a root or an admin, expire, and end by a revocation naming
/// their access id; each silo's trust boundary keeps a copy of <see cref="GetCallers"/> for a few seconds. An admin's
/// document ends no later than the admin's registration, and counts only while its signer is trusted.
/// </summary>
internal sealed class TenantAccess(StateOutbox<IssuerGrainState> outbox, TrustAdministration tenant, IssuerEvents events, CallerChanges callers, TimeProvider time, AgentSecurityOptions options, string tenantId)
{
    /// <summary>Access documents a tenant may hold at once.</summary>
    public const int MaxDocuments = 256;

    // Stored documents verified once each (signature, tenant), by their text: storage is not trusted to hold only what
    // this issuer accepted, and a signature is too dear to check every time a silo asks who may call.
    private readonly Dictionary<string, AccessDocument?> _verified = new(StringComparer.Ordinal);

    private IssuerGrainState State => outbox.State;

    public async Task<DocumentResult> ApplyAsync(string signedAccess)
    {
        const string What = "access document";
        var parsed = AccessDocument.Parse(signedAccess);
        if (!parsed.TryGetValue(out var access))
        {
            return await tenant.RefuseAsync(parsed.Failure, What, signer: null);
        }

        var now = time.GetUtcNow();
        var signer = access.Envelope.SignedBy;
        var trusted = tenant.TrustFor(access.TenantId);
        if (!trusted.TryGetValue(out var trust))
        {
            return await tenant.RefuseAsync(trusted.Failure, What, signer.Value);
        }

        if (Check(access, trust, now) is { } failure)
        {
            return await tenant.RefuseAsync(failure, What, signer.Value);
        }

        if (State.AccessDocuments.TryGetValue(access.AccessId, out var stored))
        {
            return stored == access.Envelope.CanonicalText
                ? new DocumentResult { Accepted = true, Unchanged = true }
                : await tenant.RefuseAsync(new Failure(ReasonCodes.Replayed, $"access id {access.AccessId} was already used for another document"), What, signer.Value);
        }

        var live = Live(trust, now).ToList();
        if (live.Count >= MaxDocuments)
        {
            return DocumentResult.Refuse(ReasonCodes.QuotaExceeded, $"the tenant holds {MaxDocuments} access documents in force; revoke some first");
        }

        var applied = events.Make(SecurityEventTypes.AccessApplied, grantId: access.AccessId, signer: signer.Value,
            message: $"{access.PrincipalDid.Value} may {AccessRightNames.Describe(access.Allow)} for {(access.Agents is null ? "every agent" : string.Join(", ", access.Agents.Select(a => a.Text)))} until {DocumentTime.ToText(access.ExpiresAt)}");
        if (!await outbox.CommitAsync(s => Store(s, access, live.Select(a => a.AccessId)), applied))
        {
            return DocumentResult.Refuse(ReasonCodes.Unavailable, "the access document could not be stored");
        }

        await callers.TellSilosAsync();
        return new DocumentResult { Accepted = true };
    }

    /// <summary>Who may call for the tenant now, as this issuer verified it.</summary>
    public TenantCallers GetCallers()
    {
        if (tenant.Trust is not { } trust)
        {
            return TenantCallers.Unknown;
        }

        var now = time.GetUtcNow();
        return new TenantCallers
        {
            Exists = true,
            RootDids = trust.Roots.Select(d => d.Value).ToArray(),
            Admins = trust.Admins.Values.Where(a => a.ExpiresAt > now).Select(a => new TenantAdmin(a.AdminDid.Value, a.ExpiresAt)).ToArray(),
            AccessDocuments = Live(trust, now).Select(a => a.Envelope.CanonicalText).ToArray(),
        };
    }

    /// <summary>Whether a grant id is one of this tenant's access documents (whose revocation ends it), and until when.</summary>
    public DateTimeOffset? ExpiryOf(string accessId) =>
        State.AccessDocuments.TryGetValue(accessId, out var text) && AccessDocument.Parse(text).TryGetValue(out var access) ? access.ExpiresAt : null;

    /// <summary>Signed by a root or an admin in force, validly and now, for a principal, until a time still ahead, never revoked.</summary>
    private Failure? Check(AccessDocument access, TenantTrust trust, DateTimeOffset now)
    {
        var signer = access.Envelope.SignedBy;
        if (!trust.IsRootOrAdmin(signer, now))
        {
            var untrusted = trust.Untrusted(signer, now);
            return untrusted with { Message = $"access for a tenant is signed by a root or admin of it: {untrusted.Message}" };
        }

        if (TenantTrust.CheckSignatureAndTime(access.Envelope, now, options.ClockSkew) is { } invalid)
        {
            return invalid;
        }

        if (access.ExpiresAt <= now)
        {
            return new Failure(ReasonCodes.Expired, $"the access document expired at {DocumentTime.ToText(access.ExpiresAt)}");
        }

        // An admin gives access no longer than it may sign itself, as with grants.
        if (!trust.IsRoot(signer) && trust.ActiveAdmin(signer, now) is { } admin && access.ExpiresAt > admin.ExpiresAt)
        {
            return new Failure(ReasonCodes.Escalation, $"access signed by admin {signer.Value} must end by {DocumentTime.ToText(admin.ExpiresAt)}, when the admin's registration does");
        }

        // Access ids and grant ids share the revocations: one id must never name both.
        if (State.AcceptedGrants.ContainsKey(access.AccessId))
        {
            return new Failure(ReasonCodes.Replayed, $"{access.AccessId} is the id of a grant of this tenant; an access document needs an id of its own");
        }

        return State.RevokedGrants.ContainsKey(access.AccessId) ? new Failure(ReasonCodes.Revoked, $"access {access.AccessId} was revoked") : null;
    }

    /// <summary>
    /// The documents in force: stored, verified, for this tenant, not expired, not revoked, and signed by a root (or by a
    /// root before it retired) or by an admin still registered.
    /// </summary>
    private IEnumerable<AccessDocument> Live(TenantTrust trust, DateTimeOffset now) => State.AccessDocuments
        .Where(p => !State.RevokedGrants.ContainsKey(p.Key))
        .Select(p => Verified(p.Value))
        .OfType<AccessDocument>()
        .Where(a => a.ExpiresAt > now && SignerTrusted(a, trust, now));

    private AccessDocument? Verified(string text)
    {
        if (!_verified.TryGetValue(text, out var access))
        {
            if (_verified.Count >= 4 * MaxDocuments)
            {
                _verified.Clear(); // documents long dropped; those in force are verified again once
            }

            access = AccessDocument.Parse(text).TryGetValue(out var parsed) && parsed.TenantId == tenantId && parsed.Envelope.HasValidSignature() ? parsed : null;
            _verified[text] = access;
        }

        return access;
    }

    private static bool SignerTrusted(AccessDocument access, TenantTrust trust, DateTimeOffset now)
    {
        var signer = access.Envelope.SignedBy;
        return trust.IsRoot(signer)
            || (trust.RetiredRoots.TryGetValue(signer, out var retiredAt) && access.Envelope.IssuedAt < retiredAt)
            || trust.ActiveAdmin(signer, now) is not null;
    }

    /// <summary>Stores a document, dropping the ones that expired or were revoked, so the map holds what is in force and no more.</summary>
    private static void Store(IssuerGrainState state, AccessDocument access, IEnumerable<string> live)
    {
        var keep = live.ToHashSet(StringComparer.Ordinal);
        foreach (var id in state.AccessDocuments.Keys.Where(id => !keep.Contains(id)).ToList())
        {
            state.AccessDocuments.Remove(id);
        }

        state.AccessDocuments[access.AccessId] = access.Envelope.CanonicalText;
    }
}

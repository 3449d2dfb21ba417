using Orleans.Concurrency;

namespace AgentSecurity.Abstractions;

/// <summary>
/// A tenant's trust (key: the tenant id): its roots (from the operator-signed tenant document and later rotations),
/// its admins with their ceilings, the grant ids it accepted, revocations, and pending permission requests. It
/// verifies every document that changes what an agent of the tenant may do.
/// </summary>
public interface IGrantIssuerGrain : IGrainWithStringKey
{
    /// <summary>Creates the tenant from an <c>agentsec.tenant.v1</c> signed by the operator DID of the silo's configuration.</summary>
    Task<TenantResult> CreateTenantAsync(string signedTenant);

    [AlwaysInterleave, ReadOnly]
    Task<TenantInfo?> GetTenantAsync();

    /// <summary>
    /// Verifies a grant for an agent of this tenant: form, signer (root, admin within its ceiling, or for a delegation
    /// the parent's agent within the parent), signature, time window, revocation and replay. An accepted grant's id
    /// is recorded before the answer.
    /// </summary>
    Task<GrantVerification> VerifyGrantAsync(string signedGrant);

    /// <summary>Verifies an answer to a permission request and marks the request approved.</summary>
    Task<GrantVerification> VerifyElevationAsync(string requestId, string signedGrant);

    /// <summary>Registers (or replaces) an admin from an <c>agentsec.admin.v1</c> signed by a root.</summary>
    Task<DocumentResult> RegisterAdminAsync(string signedAdmin);

    /// <summary>Replaces a root by a new one from an <c>agentsec.rotation.v1</c> signed by the old root.</summary>
    Task<DocumentResult> RotateRootAsync(string signedRotation);

    /// <summary>
    /// Revokes a grant and every grant delegated from it, durably, then tells each affected agent before answering.
    /// </summary>
    Task<RevocationResult> RevokeAsync(string signedRevocation);

    /// <summary>Sets the tenant-wide limits from an <c>agentsec.limits.v1</c> signed by the operator or a root.</summary>
    Task<DocumentResult> SetTenantLimitsAsync(string signedLimits);

    [AlwaysInterleave, ReadOnly]
    Task<TenantLimits> GetTenantLimitsAsync();

    /// <summary>
    /// Whether grants an agent loads from storage are ones this tenant accepted (same content) and not revoked: an
    /// agent trusts nothing it reads back that the issuer does not confirm.
    /// </summary>
    [AlwaysInterleave, ReadOnly]
    Task<IReadOnlyList<StoredGrantStatus>> ConfirmStoredGrantsAsync(IReadOnlyList<StoredGrantRef> grants);

    /// <summary>Which of these grant ids are revoked. Agents ask when told of a revocation.</summary>
    [AlwaysInterleave, ReadOnly]
    Task<IReadOnlyList<string>> FindRevokedAsync(IReadOnlyList<string> grantIds);

    /// <summary>Verifies that a quarantine document for one of the tenant's agents is signed by a root or admin.</summary>
    [AlwaysInterleave, ReadOnly]
    Task<GrantVerification> VerifyQuarantineAsync(string signedQuarantine);

    /// <summary>Records an agent's permission request (the agent grain calls this).</summary>
    Task<PermissionRequestResult> RecordRequestAsync(string agentId, PermissionRequestInput request);

    /// <summary>Pending and recently answered or expired permission requests, newest first.</summary>
    Task<IReadOnlyList<PermissionRequestInfo>> ListRequestsAsync();
}

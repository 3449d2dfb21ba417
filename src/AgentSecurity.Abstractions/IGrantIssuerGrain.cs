using AgentSecurity.Abstractions.Boundary;
using AgentSecurity.Grants.Access;
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
    [Requires(AccessRights.Apply, CallScope.AllTenants)]
    Task<TenantResult> CreateTenantAsync(string signedTenant);

    [Requires(AccessRights.Check, CallScope.Tenant)]
    [AlwaysInterleave, ReadOnly]
    Task<TenantInfo?> GetTenantAsync();

    /// <summary>Registers (or replaces) an admin from an <c>agentsec.admin.v1</c> signed by a root.</summary>
    [Requires(AccessRights.Apply, CallScope.Tenant)]
    Task<DocumentResult> RegisterAdminAsync(string signedAdmin);

    /// <summary>Replaces a root by a new one from an <c>agentsec.rotation.v1</c> signed by the old root.</summary>
    [Requires(AccessRights.Apply, CallScope.Tenant)]
    Task<DocumentResult> RotateRootAsync(string signedRotation);

    /// <summary>
    /// Revokes a grant and every grant delegated from it, durably, then tells each affected agent before answering.
    /// </summary>
    [Requires(AccessRights.Apply, CallScope.Tenant)]
    Task<RevocationResult> RevokeAsync(string signedRevocation);

    /// <summary>Sets the tenant-wide limits from an <c>agentsec.limits.v1</c> signed by the operator or a root.</summary>
    [Requires(AccessRights.Apply, CallScope.Tenant)]
    Task<DocumentResult> SetTenantLimitsAsync(string signedLimits);

    [Requires(AccessRights.Check, CallScope.Tenant)]
    [AlwaysInterleave, ReadOnly]
    Task<TenantLimits> GetTenantLimitsAsync();

    /// <summary>
    /// Stores an <c>agentsec.access.v1</c> for this tenant, signed by one of its roots or admins: the rights a principal
    /// (a platform service) has when it calls for the tenant's agents. A revocation naming its <c>accessId</c> ends it.
    /// </summary>
    [Requires(AccessRights.Apply, CallScope.Tenant)]
    Task<DocumentResult> ApplyAccessAsync(string signedAccess);

    /// <summary>Pending and recently answered or expired permission requests, newest first.</summary>
    [Requires(AccessRights.Requests, CallScope.Tenant)]
    Task<IReadOnlyList<PermissionRequestInfo>> ListRequestsAsync();
}

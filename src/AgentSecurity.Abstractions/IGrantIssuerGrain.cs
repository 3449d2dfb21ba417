namespace AgentSecurity.Abstractions;

/// <summary>
/// A tenant's trust (key: the tenant id): its root DIDs from the operator-signed tenant document, and the grant ids
/// it has accepted. It verifies every grant before an agent may install it.
/// </summary>
public interface IGrantIssuerGrain : IGrainWithStringKey
{
    /// <summary>Creates the tenant from an <c>agentsec.tenant.v1</c> signed by the operator DID of the silo's configuration.</summary>
    Task<TenantResult> CreateTenantAsync(string signedTenant);

    Task<TenantInfo?> GetTenantAsync();

    /// <summary>
    /// Verifies a grant for an agent of this tenant: form, signer trusted for the tenant, signature, time window,
    /// and replay of its id. An accepted grant's id is recorded before the answer.
    /// </summary>
    Task<GrantVerification> VerifyGrantAsync(string signedGrant);
}

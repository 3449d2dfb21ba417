using AgentSecurity.Abstractions.Boundary;
using Orleans.Concurrency;

namespace AgentSecurity.Abstractions.Kernel;

/// <summary>What the kernel's own grains call on a tenant's issuer: refused to every client.</summary>
[KernelOnly]
public interface IIssuerKernelGrain : IGrantIssuerGrain
{
    /// <summary>
    /// Verifies a grant for an agent of this tenant: form, signer (root, admin within its ceiling, or for a delegation
    /// the parent's agent within the parent), signature, time window, revocation and replay. An accepted grant's id
    /// is recorded before the answer.
    /// </summary>
    Task<GrantVerification> VerifyGrantAsync(string signedGrant);

    /// <summary>Verifies an answer to a permission request and marks the request approved.</summary>
    Task<GrantVerification> VerifyElevationAsync(string requestId, string signedGrant);

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

    /// <summary>
    /// Who may call for this tenant besides the operator: its roots, its admins in force and its access documents in
    /// force, as the issuer verified them. Each silo's trust boundary keeps a copy for a few seconds.
    /// </summary>
    [AlwaysInterleave, ReadOnly]
    Task<TenantCallers> GetCallersAsync();
}

using AgentSecurity.Grants.Access;
using Orleans.Concurrency;

namespace AgentSecurity.Abstractions.Boundary;

/// <summary>
/// The operator's access documents for every tenant (<c>agentsec.access.v1</c> with <c>tenantId</c> <c>"*"</c>): one
/// grain, key <see cref="Key"/>. Only the operator signs them; a revocation signed by the operator ends one.
/// </summary>
public interface IAccessRegistryGrain : IGrainWithStringKey
{
    public const string Key = "*";

    /// <summary>Stores an operator-signed access document for every tenant.</summary>
    [Requires(AccessRights.Apply, CallScope.AllTenants)]
    Task<DocumentResult> ApplyAccessAsync(string signedAccess);

    /// <summary>Ends an access document for every tenant: a revocation signed by the operator naming its <c>accessId</c>.</summary>
    [Requires(AccessRights.Apply, CallScope.AllTenants)]
    Task<RevocationResult> RevokeAsync(string signedRevocation);

    /// <summary>The access documents in force (signed texts): what each silo's trust boundary keeps a copy of.</summary>
    [AlwaysInterleave, ReadOnly]
    [Requires(AccessRights.Apply, CallScope.AllTenants)]
    Task<IReadOnlyList<string>> GetAccessAsync();
}

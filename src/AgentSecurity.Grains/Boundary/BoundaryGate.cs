using AgentSecurity.Abstractions.Boundary;
using AgentSecurity.Grants;
using AgentSecurity.Grants.Access;

namespace AgentSecurity.Grains.Boundary;

/// <summary>
/// What the silo's own HTTP endpoints ask of the trust boundary before they call a grain for a client: who a session
/// proves, and, for what belongs to no tenant (the dashboard, the metrics), whether that principal may see every tenant.
/// Everything about a tenant or an agent is decided by the boundary's filter when the endpoint calls the grain with the
/// client's session, exactly as for a .NET client.
/// </summary>
public interface IBoundaryGate
{
    /// <summary>
    /// The principal a signed session proves now, from the same cache the boundary's filter uses (a session is verified
    /// once per silo); else <c>unauthenticated</c>.
    /// </summary>
    Result<string> Authenticate(string? session);

    /// <summary>
    /// Null when <paramref name="principal"/> holds <paramref name="right"/> for every tenant: the operator, or a principal
    /// with an operator-signed access document for <c>"*"</c> that allows it for every agent. Else <c>forbidden</c>, or
    /// <c>unavailable</c> when who may call could not be read.
    /// </summary>
    ValueTask<Failure?> AuthorizeEveryTenantAsync(string principal, AccessRights right);
}

internal sealed class BoundaryGate(SessionCache sessions, CallAuthorizer authorizer) : IBoundaryGate
{
    public Result<string> Authenticate(string? session) => sessions.Authenticate(session);

    public ValueTask<Failure?> AuthorizeEveryTenantAsync(string principal, AccessRights right) =>
        authorizer.AuthorizeAsync(principal, right, CallScope.AllTenants, tenant: null, agent: null, agentDid: null);
}

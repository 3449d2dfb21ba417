using AgentSecurity.Abstractions.Boundary;
using AgentSecurity.Grants;
using AgentSecurity.Grants.Access;

namespace AgentSecurity.Grains.Boundary;

/// <summary>
/// Whether a principal holds a right over a tenant or one of its agents, from this silo's copies of who may call: the
/// operator everything; a root or admin in force everything within its tenant; an agent's own DID checks and requests for
/// that agent; access documents what they allow, for the agents they name. Decides from memory, except when a copy must
/// be read (once per tenant and <see cref="BoundaryOptions.CallersLifetime"/>).
/// </summary>
internal sealed class CallAuthorizer(string operatorDid, CallerDirectory directory, TimeProvider time)
{
    /// <summary>The rights an agent's own DID has for that agent: asking before it acts, and asking for more.</summary>
    public const AccessRights AgentSelf = AccessRights.Check | AccessRights.Requests;

    /// <summary>The operator may do everything, for every tenant, whatever the grain it calls.</summary>
    public bool IsOperator(string principal) => principal == operatorDid;

    /// <summary>
    /// Null when allowed; else <c>forbidden</c> (or <c>unavailable</c> when who may call could not be read).
    /// <paramref name="agentDid"/> is the DID the agent's active grant names, when the call is for an agent.
    /// </summary>
    public ValueTask<Failure?> AuthorizeAsync(string principal, AccessRights right, CallScope scope, string? tenant, string? agent, string? agentDid)
    {
        if (principal == operatorDid)
        {
            return ValueTask.FromResult<Failure?>(null);
        }

        if (scope == CallScope.Agent && agentDid == principal && (right & AgentSelf) == right)
        {
            return ValueTask.FromResult<Failure?>(null);
        }

        var registry = directory.RegistryAsync();
        if (!registry.IsCompletedSuccessfully)
        {
            return SlowAsync(principal, right, scope, tenant, agent);
        }

        if (registry.Result.Allows(principal, right, scope == CallScope.Agent ? agent : null, time.GetUtcNow()))
        {
            return ValueTask.FromResult<Failure?>(null);
        }

        if (scope == CallScope.AllTenants || tenant is null)
        {
            return ValueTask.FromResult<Failure?>(Forbidden(principal, right, tenant, agent));
        }

        var callers = directory.TenantAsync(tenant);
        return callers.IsCompletedSuccessfully
            ? ValueTask.FromResult(Decide(callers.Result, principal, right, scope, tenant, agent))
            : SlowAsync(principal, right, scope, tenant, agent);
    }

    private async ValueTask<Failure?> SlowAsync(string principal, AccessRights right, CallScope scope, string? tenant, string? agent)
    {
        try
        {
            var registry = await directory.RegistryAsync();
            if (registry.Allows(principal, right, scope == CallScope.Agent ? agent : null, time.GetUtcNow()))
            {
                return null;
            }

            return scope == CallScope.AllTenants || tenant is null
                ? Forbidden(principal, right, tenant, agent)
                : Decide(await directory.TenantAsync(tenant), principal, right, scope, tenant, agent);
        }
#pragma warning disable CA1031 // Who may call could not be read: the call is refused, never let through.
        catch (Exception)
#pragma warning restore CA1031
        {
            return new Failure(ReasonCodes.Unavailable, $"who may call for tenant {tenant} could not be read now; try again");
        }
    }

    private Failure? Decide(CallerSnapshot callers, string principal, AccessRights right, CallScope scope, string tenant, string? agent)
    {
        var now = time.GetUtcNow();
        if (callers.IsRootOrAdmin(principal, now) || callers.Allows(principal, right, scope == CallScope.Agent ? agent : null, now))
        {
            return null;
        }

        return Forbidden(principal, right, tenant, agent);
    }

    private static Failure Forbidden(string principal, AccessRights right, string? tenant, string? agent) =>
        new(ReasonCodes.Forbidden, $"{principal} has no {AccessRightNames.Describe(right)} right for " +
            (tenant is null ? "every tenant" : agent is null ? $"tenant {tenant}" : $"{tenant}/{agent}"));
}

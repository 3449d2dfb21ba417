using AgentSecurity.Grants.Access;

namespace AgentSecurity.Abstractions.Boundary;

/// <summary>What a client needs to call a grain method: which grain the right must cover, for a client's call.</summary>
public enum CallScope
{
    /// <summary>The agent the grain is (key <c>tenant/agent</c>).</summary>
    Agent,

    /// <summary>The tenant the grain is (key <c>tenant</c>): every agent of it.</summary>
    Tenant,

    /// <summary>Every tenant: the operator, or an operator-signed access document for <c>"*"</c>.</summary>
    AllTenants,
}

/// <summary>
/// The right a client's session must hold to call this method, and over what. A method of a kernel grain interface
/// without this attribute (or one of <see cref="KernelOnlyAttribute"/>'s interfaces) is refused to every client.
/// </summary>
[AttributeUsage(AttributeTargets.Method, Inherited = false)]
public sealed class RequiresAttribute(AccessRights right, CallScope scope = CallScope.Agent) : Attribute
{
    public AccessRights Right { get; } = right;

    public CallScope Scope { get; } = scope;
}

/// <summary>An interface only the kernel's own grains may call: refused (<c>forbidden</c>) to every client, whatever its session.</summary>
[AttributeUsage(AttributeTargets.Interface, Inherited = false)]
public sealed class KernelOnlyAttribute : Attribute;

using System.Collections.Concurrent;
using System.Reflection;

namespace AgentSecurity.Grains.Boundary;

/// <summary>Whose code a grain, interface, observer or system target of a silo is: it decides what the boundary asks of its calls.</summary>
internal enum GrainOwner
{
    /// <summary>The kernel's grains, observers and interfaces: calls to them prove a principal; their own calls are the kernel's.</summary>
    Kernel,

    /// <summary>Orleans' own (system targets, the management grain, streams' plumbing, the dashboard): sealed to clients.</summary>
    Orleans,

    /// <summary>
    /// The code of a platform that hosts the kernel in its silo (its grains, interfaces, grain services): the platform's
    /// business, not the kernel's. Calls to its grains pass and never carry the kernel's token; its calls to the kernel are
    /// a client's, proving a principal with a session like any other.
    /// </summary>
    Host,
}

internal static class GrainOwners
{
    private static readonly ConcurrentDictionary<Assembly, GrainOwner> Owners = new();

    /// <summary>
    /// The owner of a grain instance, system target or observer, by the assembly of its class (a platform's grain service
    /// is a system target, and the platform's). No instance is Orleans': sealed to clients.
    /// </summary>
    public static GrainOwner Of(object? instance) => instance is null ? GrainOwner.Orleans : Of(instance.GetType());

    /// <summary>The owner of a class or an interface, by its assembly.</summary>
    public static GrainOwner Of(Type type) => Owners.GetOrAdd(type.Assembly, Classify);

    private static GrainOwner Classify(Assembly assembly) => assembly.GetName().Name switch
    {
        "AgentSecurity.Abstractions" or "AgentSecurity.Grains" or "AgentSecurity.Hosting" => GrainOwner.Kernel,
        { } name when name == "Orleans" || name.StartsWith("Orleans.", StringComparison.Ordinal) => GrainOwner.Orleans,
        _ => GrainOwner.Host,
    };
}

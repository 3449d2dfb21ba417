using System.Collections.Concurrent;
using System.Reflection;

namespace AgentSecurity.Grains.Boundary;

/// <summary>Whose code a grain, observer or system target of a silo is: it decides what the boundary asks of its calls.</summary>
internal enum GrainOwner
{
    /// <summary>The kernel's grains and observers: calls to them prove a principal; their own calls are the kernel's.</summary>
    Kernel,

    /// <summary>Orleans' own (system targets, the management grain, streams' plumbing, the dashboard): sealed to clients.</summary>
    Orleans,

    /// <summary>
    /// The grains of a platform that hosts the kernel in its silo: the platform's business, not the kernel's. Calls to them
    /// pass; their calls to the kernel are a client's, proving a principal with a session like any other.
    /// </summary>
    Host,
}

internal static class GrainOwners
{
    private static readonly ConcurrentDictionary<Assembly, GrainOwner> Owners = new();

    /// <summary>The owner of <paramref name="instance"/>; a missing instance is Orleans' (sealed to clients, never the kernel).</summary>
    public static GrainOwner Of(object? instance) => instance switch
    {
        null => GrainOwner.Orleans,
        SystemTarget => GrainOwner.Orleans,
        _ => Owners.GetOrAdd(instance.GetType().Assembly, Classify),
    };

    private static GrainOwner Classify(Assembly assembly) => assembly.GetName().Name switch
    {
        "AgentSecurity.Grains" or "AgentSecurity.Hosting" => GrainOwner.Kernel,
        { } name when name == "Orleans" || name.StartsWith("Orleans.", StringComparison.Ordinal) => GrainOwner.Orleans,
        _ => GrainOwner.Host,
    };
}

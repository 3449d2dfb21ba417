using System.Collections.Concurrent;
using System.Reflection;
using AgentSecurity.Abstractions.Boundary;
using AgentSecurity.Grants.Access;
using Microsoft.Extensions.Options;
using Orleans.Concurrency;

namespace AgentSecurity.Grains.Boundary;

/// <summary>
/// What a client needs to call one grain method, read once from the interface's attributes; <c>Interleaves</c>: declared
/// <c>[AlwaysInterleave]</c>, so it may run while other calls of the activation run; <c>Observers</c>: the positions of
/// its arguments that are references the kernel will call back (each must be the caller's own observer).
/// </summary>
internal readonly record struct CallRule(CallRuleKind Kind, AccessRights Right, CallScope Scope, string Method, bool Interleaves = false, int[]? Observers = null);

/// <summary>
/// The rule of every grain method a client may reach, read once per method. The kernel's interfaces say it with their
/// attributes; of everything else, only Orleans' own plumbing that a client needs to work at all is let through (the
/// cluster's manifest, the cancellation of its own calls, and what <see cref="BoundaryOptions.ClientInfrastructure"/>
/// adds): the management grain, streams' pub-sub (a client would subscribe to another tenant's events) and grain
/// extensions are refused to clients.
/// </summary>
internal sealed class CallRules(IOptions<BoundaryOptions> options)
{
    private static readonly Assembly Kernel = typeof(RequiresAttribute).Assembly;

    private readonly ConcurrentDictionary<MethodInfo, CallRule> _rules = new();
    private readonly HashSet<string> _infrastructure = new(
        [
            "Orleans.Runtime.IClusterManifestSystemTarget",
            "Orleans.Runtime.IGrainCallCancellationExtension",

            // A grain timer's tick is invoked through the call pipeline, from inside the silo and without a message a
            // client could send: a tick invoker is not serializable, so a remote call of this interface reaches no timer.
            "Orleans.Runtime.IGrainTimerInvoker",
            .. options.Value.ClientInfrastructure,
        ],
        StringComparer.Ordinal);

    public CallRule For(MethodInfo? method) => method is null
        ? new CallRule(CallRuleKind.Sealed, AccessRights.None, CallScope.AllTenants, "(unknown method)")
        : _rules.GetOrAdd(method, Read);

    private CallRule Read(MethodInfo method)
    {
        var type = method.DeclaringType;
        var name = $"{type?.Name}.{method.Name}";
        if (type is null)
        {
            return new CallRule(CallRuleKind.Sealed, AccessRights.None, CallScope.AllTenants, name);
        }

        if (type.Assembly != Kernel)
        {
            return new CallRule(_infrastructure.Contains(type.FullName ?? string.Empty) ? CallRuleKind.Infrastructure : CallRuleKind.Sealed, AccessRights.None, CallScope.AllTenants, name);
        }

        // Fail closed: a kernel interface method without a rule (or with a rule that names no right) is the kernel's alone.
        return type.GetCustomAttribute<KernelOnlyAttribute>() is null && method.GetCustomAttribute<RequiresAttribute>() is { Right: not AccessRights.None } requires
            ? new CallRule(CallRuleKind.Client, requires.Right, requires.Scope, name, method.GetCustomAttribute<AlwaysInterleaveAttribute>() is not null, ReferencesIn(method))
            : new CallRule(CallRuleKind.Sealed, AccessRights.None, CallScope.AllTenants, name);
    }

    private static int[]? ReferencesIn(MethodInfo method)
    {
        var positions = method.GetParameters().Where(p => typeof(IAddressable).IsAssignableFrom(p.ParameterType)).Select(p => p.Position).ToArray();
        return positions.Length == 0 ? null : positions;
    }
}

internal enum CallRuleKind
{
    /// <summary>Only the kernel may call it: refused to every client.</summary>
    Sealed,

    /// <summary>A client may call it with a session whose principal holds the rule's right.</summary>
    Client,

    /// <summary>Orleans' plumbing a client needs to work: let through.</summary>
    Infrastructure,
}

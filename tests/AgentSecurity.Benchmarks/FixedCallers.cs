using System.Reflection;
using AgentSecurity.Abstractions.Boundary;
using AgentSecurity.Abstractions.Kernel;

namespace AgentSecurity.Benchmarks;

/// <summary>
/// A grain factory whose grains answer only what <c>CallerDirectory</c> reads: a tenant's callers
/// (<see cref="IIssuerKernelGrain.GetCallersAsync"/>) and the operator's access documents
/// (<see cref="IAccessRegistryGrain.GetAccessAsync"/>), from fixed copies. The directory reads them once and then decides
/// from memory, which is what the boundary benchmarks measure; a proxy spares implementing two large interfaces for it.
/// </summary>
public class FixedCallers : DispatchProxy
{
    private TenantCallers _tenant = TenantCallers.Unknown;
    private IReadOnlyList<string> _registry = [];

    public static IGrainFactory Factory(TenantCallers tenant, IReadOnlyList<string> registry) =>
        (IGrainFactory)Answering(typeof(IGrainFactory), tenant, registry);

    protected override object? Invoke(MethodInfo? targetMethod, object?[]? args)
    {
        ArgumentNullException.ThrowIfNull(targetMethod);
        return targetMethod.Name switch
        {
            nameof(IGrainFactory.GetGrain) => Answering(targetMethod.ReturnType, _tenant, _registry),
            nameof(IIssuerKernelGrain.GetCallersAsync) => Task.FromResult(_tenant),
            nameof(IAccessRegistryGrain.GetAccessAsync) => Task.FromResult(_registry),
            _ => throw new NotSupportedException($"the benchmark's grains answer only who may call, not {targetMethod.Name}"),
        };
    }

    private static object Answering(Type grainInterface, TenantCallers tenant, IReadOnlyList<string> registry)
    {
        var proxy = Create(grainInterface, typeof(FixedCallers));
        ((FixedCallers)proxy)._tenant = tenant;
        ((FixedCallers)proxy)._registry = registry;
        return proxy;
    }
}

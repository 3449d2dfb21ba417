using AgentSecurity.Abstractions.Boundary;

namespace AgentSecurity.Abstractions.Kernel;

/// <summary>
/// The silos' copies of who may call (<see cref="ICallerCacheObserver"/>), one grain for the cluster (key 0): each silo
/// subscribes its copy, and an issuer that changed a tenant's callers has every copy forget them before it answers.
/// </summary>
[KernelOnly]
public interface ICallerCacheRegistryGrain : IGrainWithIntegerKey
{
    /// <summary>Subscribes (or keeps subscribed) a silo's copy; a subscription not renewed within a few minutes lapses.</summary>
    Task SubscribeAsync(ICallerCacheObserver silo);

    /// <summary>Has every subscribed copy forget the tenant's callers; false when some silo could not be told.</summary>
    Task<bool> ForgetAsync(string tenant);
}

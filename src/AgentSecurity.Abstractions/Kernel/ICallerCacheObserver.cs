namespace AgentSecurity.Abstractions.Kernel;

/// <summary>
/// A silo's copy of who may call for which tenant: told to forget a tenant's callers when they change, so that the
/// change holds on every silo before the call that made it returns.
/// </summary>
public interface ICallerCacheObserver : IGrainObserver
{
    Task ForgetAsync(string tenant);
}

using AgentSecurity.Abstractions.Kernel;
using AgentSecurity.Grains.Telemetry;
using Microsoft.Extensions.Logging;

namespace AgentSecurity.Grains.Issuers;

/// <summary>
/// Tells every silo's trust boundary that who may call for this tenant changed (a tenant created, an admin registered,
/// a root rotated, an access document applied or revoked), before the change's caller hears of it.
/// </summary>
internal sealed class CallerChanges(IGrainFactory grains, string tenantId, ILogger logger)
{
    /// <summary>False when some silo could not be told; its copy then ages out by itself within a few seconds.</summary>
    public async Task<bool> TellSilosAsync()
    {
        try
        {
            return await grains.GetGrain<ICallerCacheRegistryGrain>(0).ForgetAsync(tenantId);
        }
#pragma warning disable CA1031 // The change stands; the silos' copies age out by themselves.
        catch (Exception e)
#pragma warning restore CA1031
        {
            Log.CallerCacheNotTold(logger, e, tenantId);
            return false;
        }
    }
}

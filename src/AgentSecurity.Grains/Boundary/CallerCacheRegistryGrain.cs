using AgentSecurity.Abstractions.Kernel;
using AgentSecurity.Grains.Telemetry;
using Microsoft.Extensions.Logging;

namespace AgentSecurity.Grains.Boundary;

/// <summary>
/// Keeps the silos' subscriptions in memory only: a new activation starts empty, and the silos subscribe again within
/// <see cref="CallerCacheSubscription.Renewal"/>; until then their copies still age out after
/// <see cref="BoundaryOptions.CallersLifetime"/>.
/// </summary>
// The process clock, not the kernel's: how long a silo's subscription lasts has nothing to do with grant time.
public sealed class CallerCacheRegistryGrain(TimeProvider time, ILogger<CallerCacheRegistryGrain> logger) : Grain, ICallerCacheRegistryGrain
{
    /// <summary>A subscription not renewed for this long is dropped (a silo that died, say).</summary>
    public static readonly TimeSpan Lapse = TimeSpan.FromMinutes(3);

    private readonly Dictionary<ICallerCacheObserver, DateTimeOffset> _silos = [];

    public Task SubscribeAsync(ICallerCacheObserver silo)
    {
        _silos[silo] = time.GetUtcNow() + Lapse;
        return Task.CompletedTask;
    }

    public async Task<bool> ForgetAsync(string tenant)
    {
        var now = time.GetUtcNow();
        foreach (var lapsed in _silos.Where(s => s.Value <= now).Select(s => s.Key).ToList())
        {
            _silos.Remove(lapsed);
        }

        var told = await Task.WhenAll(_silos.Keys.Select(async silo =>
        {
            try
            {
                await silo.ForgetAsync(tenant);
                return true;
            }
#pragma warning disable CA1031 // A silo that cannot be told ages its copy out by itself.
            catch (Exception e)
#pragma warning restore CA1031
            {
                Log.CallerCacheNotTold(logger, e, tenant);
                return false;
            }
        }));
        return told.All(t => t);
    }
}

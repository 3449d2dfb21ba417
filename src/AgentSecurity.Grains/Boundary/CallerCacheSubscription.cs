using AgentSecurity.Abstractions.Kernel;
using AgentSecurity.Grains.Telemetry;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace AgentSecurity.Grains.Boundary;

/// <summary>Keeps this silo's copy of who may call subscribed to the cluster's registry, so that changes reach it at once.</summary>
internal sealed class CallerCacheSubscription(IGrainFactory grains, CallerDirectory directory, ILogger<CallerCacheSubscription> logger) : BackgroundService
{
    /// <summary>How often the subscription is renewed (well within <see cref="CallerCacheRegistryGrain.Lapse"/>).</summary>
    public static readonly TimeSpan Renewal = TimeSpan.FromMinutes(1);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var kernel = KernelScope.Enter(); // a background service runs in no activation: its calls are the kernel's by scope
        var reference = grains.CreateObjectReference<ICallerCacheObserver>(directory);
        var registry = grains.GetGrain<ICallerCacheRegistryGrain>(0);
        var subscribed = false;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await registry.SubscribeAsync(reference);
                subscribed = true;
            }
#pragma warning disable CA1031 // Tried again shortly; meanwhile copies age out by themselves.
            catch (Exception e) when (e is not OperationCanceledException)
#pragma warning restore CA1031
            {
                Log.CallerCacheNotSubscribed(logger, e);
            }

            // Until the first subscription holds (the silo may still be starting), every second; then at each renewal.
            await Task.Delay(subscribed ? Renewal : TimeSpan.FromSeconds(1), stoppingToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
    }
}

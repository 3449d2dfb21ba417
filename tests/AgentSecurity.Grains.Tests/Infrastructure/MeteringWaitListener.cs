using System.Diagnostics.Metrics;
using AgentSecurity.Grains.Telemetry;

namespace AgentSecurity.Grains.Tests.Infrastructure;

/// <summary>
/// Listens to the kernel's <c>agentsec.quota.waits</c> counter of every silo in this process and completes
/// <see cref="First"/> when a check starts to wait for the given cause: a marker from the kernel that a check is waiting.
/// </summary>
public sealed class MeteringWaitListener : IDisposable
{
    private readonly MeterListener _listener = new();
    private readonly TaskCompletionSource _first = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public MeteringWaitListener(string cause)
    {
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == AgentSecurityMetrics.MeterName && instrument.Name == "agentsec.quota.waits")
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<long>((_, _, tags, _) =>
        {
            foreach (var tag in tags)
            {
                if (tag is { Key: "cause", Value: string value } && value == cause)
                {
                    _first.TrySetResult();
                }
            }
        });
        _listener.Start();
    }

    public Task First => _first.Task;

    public void Dispose() => _listener.Dispose();
}

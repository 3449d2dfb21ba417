using System.Collections.Concurrent;
using AgentSecurity.Sandbox;
using AgentSecurity.Sandbox.Host;

namespace AgentSecurity.Grains.Tests.Infrastructure;

/// <summary>
/// Each of a test silo's runtimes, with starts a test can hold per tenant: an execution of a held tenant waits before
/// its runtime takes it, as it waits for a free worker on a busy silo, until the test lets go (or the kernel stops it).
/// A real JavaScript pool starts a worker for a job that finds none warm, so only a slow machine makes that wait long;
/// this makes it as long as a test needs. Tenants no test holds pass straight through.
/// </summary>
internal sealed class HeldStarts(ISandboxRuntime inner) : ISandboxRuntime
{
    private static readonly ConcurrentDictionary<string, TaskCompletionSource> Held = new(StringComparer.Ordinal);

    public string Name => inner.Name;

    public bool StartsLater => inner.StartsLater;

    /// <summary>Holds the starts of <paramref name="tenant"/>'s executions until the returned value is disposed.</summary>
    public static IDisposable Hold(string tenant)
    {
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Held[tenant] = gate;
        return new Release(() =>
        {
            Held.TryRemove(tenant, out _);
            gate.TrySetResult();
        });
    }

    public async Task<SandboxResult> RunAsync(SandboxJob job, IHostApi host, CancellationToken cancellation)
    {
        // A workspace is <root>/<tenant>/<agent>.
        var tenant = Path.GetFileName(Path.GetDirectoryName(job.Workspace.Directory));
        if (tenant is not null && Held.TryGetValue(tenant, out var gate))
        {
            try
            {
                await gate.Task.WaitAsync(cancellation);
            }
            catch (OperationCanceledException)
            {
                return SandboxResult.Failed(SandboxResult.Cancelled, "the execution was stopped", string.Empty, new SandboxUsage());
            }
        }

        return await inner.RunAsync(job, host, cancellation);
    }

    private sealed class Release(Action release) : IDisposable
    {
        public void Dispose() => release();
    }
}

using System.Collections.Concurrent;
using AgentSecurity.Sandbox;
using AgentSecurity.Sandbox.Host;

namespace AgentSecurity.Grains.Tests.Infrastructure;

/// <summary>
/// Each of a test silo's runtimes, with starts a test can hold per tenant: an execution of a held tenant waits before
/// its runtime takes it, as it waits for a free worker on a busy silo, until the test lets go (or the kernel stops it).
/// A real JavaScript pool starts a worker for a job that finds none warm, so only a slow machine makes that wait long;
/// this makes it as long as a test needs. A stalled tenant's executions start (the runtime tells the kernel so) and
/// then never end by themselves: only the kernel's deadlines end them. Tenants no test names pass straight through.
/// </summary>
internal sealed class HeldStarts(ISandboxRuntime inner) : ISandboxRuntime, IAsyncDisposable, IDisposable
{
    private static readonly ConcurrentDictionary<string, TaskCompletionSource> Held = new(StringComparer.Ordinal);
    private static readonly ConcurrentDictionary<string, bool> Stalled = new(StringComparer.Ordinal);

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

    /// <summary>From now on, <paramref name="tenant"/>'s executions start and then wait until the kernel stops them.</summary>
    public static void Stall(string tenant) => Stalled[tenant] = true;

    public async Task<SandboxResult> RunAsync(SandboxJob job, IHostApi host, CancellationToken cancellation)
    {
        // A workspace is <root>/<tenant>/<agent>.
        var tenant = Path.GetFileName(Path.GetDirectoryName(job.Workspace.Directory)) ?? string.Empty;
        try
        {
            if (Held.TryGetValue(tenant, out var gate))
            {
                await gate.Task.WaitAsync(cancellation);
            }

            if (Stalled.ContainsKey(tenant))
            {
                job.Started?.Invoke();
                await Task.Delay(Timeout.InfiniteTimeSpan, cancellation);
            }
        }
        catch (OperationCanceledException)
        {
            return SandboxResult.Failed(SandboxResult.Cancelled, "the execution was stopped", string.Empty, new SandboxUsage());
        }

        return await inner.RunAsync(job, host, cancellation);
    }

    // The container disposes what it made: the runtime inside (the wasm engine's threads, the pool's workers).
    public async ValueTask DisposeAsync()
    {
        switch (inner)
        {
            case IAsyncDisposable asynchronous:
                await asynchronous.DisposeAsync();
                break;
            case IDisposable disposable:
                disposable.Dispose();
                break;
        }
    }

    public void Dispose() => (inner as IDisposable)?.Dispose();

    private sealed class Release(Action release) : IDisposable
    {
        public void Dispose() => release();
    }
}

using System.Collections.Concurrent;

namespace AgentSecurity.Sandbox;

/// <summary>
/// Threads of their own for in-process agent code (WebAssembly, JavaScript). An execution may compute for its whole
/// CPU budget and block on host calls; neither may hold a thread of the pool Orleans schedules grains on. Threads are
/// kept for reuse (starting one costs more than a whole trivial execution) and retire after a minute idle. Their stack
/// is sized so that the engines' own recursion guards trip long before it would overflow, which would end the process.
/// </summary>
internal sealed class SandboxThreads(string name, int stackBytes) : IDisposable
{
    private static readonly TimeSpan IdleTimeout = TimeSpan.FromMinutes(1);

    private readonly ConcurrentQueue<Action> _work = new();
    private readonly SemaphoreSlim _signal = new(0);
    private int _idle;
    private volatile bool _stopping;

    public Task<T> Run<T>(Func<T> work)
    {
        var completion = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
        _work.Enqueue(() =>
        {
            try
            {
                completion.SetResult(work());
            }
#pragma warning disable CA1031 // Whatever escapes the runtime's own handling goes to the caller; on a bare thread it would end the process.
            catch (Exception e)
#pragma warning restore CA1031
            {
                completion.SetException(e);
            }
        });

        // Enqueued first, then counted: a thread that retires re-checks the queue after it stops counting as idle.
        if (Volatile.Read(ref _idle) == 0)
        {
            new Thread(Serve, stackBytes) { IsBackground = true, Name = name }.Start();
        }

        _signal.Release();
        return completion.Task;
    }

    private void Serve()
    {
        while (true)
        {
            Interlocked.Increment(ref _idle);
            var signalled = _signal.Wait(IdleTimeout);
            Interlocked.Decrement(ref _idle);
            if (_work.TryDequeue(out var work))
            {
                work();
            }
            else if (!signalled || _stopping)
            {
                return;
            }
        }
    }

    /// <summary>Lets idle threads go; the semaphore stays for any that are still finishing work.</summary>
    public void Dispose()
    {
        _stopping = true;
        _signal.Release(Volatile.Read(ref _idle) + 1);
    }
}

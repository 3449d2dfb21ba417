using Wasmtime;

namespace AgentSecurity.Sandbox.Wasm;

/// <summary>
/// Advances an engine's epoch every tick while executions run, on a thread of its own. Running modules see their wall
/// clock, their CPU clock and the kill switch only at epoch boundaries, so the ticks must not queue behind a busy thread
/// pool, as a timer's callbacks do; the thread sleeps while no execution runs.
/// </summary>
internal sealed class EpochTicker : IDisposable
{
    private readonly Engine _engine;
    private readonly TimeSpan _tick;
    private readonly ManualResetEventSlim _active = new(false);
    private readonly Thread _thread;
    private readonly Lock _gate = new();
    private int _running;
    private bool _disposed;

    public EpochTicker(Engine engine, TimeSpan tick)
    {
        (_engine, _tick) = (engine, tick);
        _thread = new Thread(Loop) { IsBackground = true, Name = "agentsec-wasm-epoch" };
        _thread.Start();
    }

    /// <summary>An execution starts: the epoch advances until the last running one has left.</summary>
    public void Enter()
    {
        lock (_gate)
        {
            if (++_running == 1 && !_disposed)
            {
                _active.Set();
            }
        }
    }

    public void Leave()
    {
        lock (_gate)
        {
            if (--_running == 0 && !_disposed)
            {
                _active.Reset();
            }
        }
    }

    /// <summary>Stops the thread; the engine must outlive this call. The event stays set, so the thread cannot wait again.</summary>
    public void Dispose()
    {
        lock (_gate)
        {
            _disposed = true;
            _active.Set();
        }

        _thread.Join();
    }

    private void Loop()
    {
        while (true)
        {
            _active.Wait();
            lock (_gate)
            {
                if (_disposed)
                {
                    return;
                }
            }

            Thread.Sleep(_tick);
            _engine.IncrementEpoch();
        }
    }
}

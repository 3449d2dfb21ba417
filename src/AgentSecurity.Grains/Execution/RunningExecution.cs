namespace AgentSecurity.Grains.Execution;

/// <summary>
/// One running execution's stop: the first reason wins (the kill switch, a deadline, a new grant); the token it
/// cancels reaches the runtime and every host call. Stopped from the grain's turns and from timers.
/// </summary>
/// <param name="runtime">The runtime's name.</param>
/// <param name="stopFailed">
/// Told when a callback on the token threw while stopping. The stop itself never throws: the token is cancelled and
/// every other callback has run by then, and a throw would end a loop that stops the agent's other executions (a
/// quarantine's, a revocation's) half way, or the silo's process from a deadline's timer.
/// </param>
internal sealed class RunningExecution(string runtime, Action<Exception> stopFailed) : IDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private readonly List<ITimer> _deadlines = [];
    private (string Reason, string Message)? _stoppedFor;
    private int _released;

    // Until its runtime starts the code (one that waits for a worker first), only the start deadline applies.
    private bool _waitingToStart;

    public string Runtime { get; } = runtime;

    public CancellationToken Token => _stop.Token;

    public (string Reason, string Message)? StoppedFor
    {
        get
        {
            lock (_stop)
            {
                return _stoppedFor;
            }
        }
    }

    public void Stop(string reason, string message)
    {
        lock (_stop)
        {
            if (_stoppedFor is not null || _released == 1)
            {
                return;
            }

            _stoppedFor = (reason, message);
            try
            {
                _stop.Cancel(); // under the lock, so never after Release disposed it
            }
            catch (AggregateException e)
            {
                stopFailed(e);
            }
        }
    }

    public void StopAfter(TimeSpan delay, string reason, string message, TimeProvider clock)
    {
        lock (_stop)
        {
            // A deadline past a day is past the longest an execution can run (its wall clock ends it first), and
            // timers take at most about 49 days: a grant valid for months must not make the execution fail.
            if (_released == 1 || delay > TimeSpan.FromDays(1))
            {
                return;
            }

            _deadlines.Add(clock.CreateTimer(_ => Stop(reason, message), null, delay < TimeSpan.Zero ? TimeSpan.Zero : delay, Timeout.InfiniteTimeSpan));
        }
    }

    /// <summary>
    /// Stops the execution for <paramref name="reason"/> unless its runtime starts the code within <paramref name="wait"/>
    /// (<see cref="Started"/>).
    /// </summary>
    public void StopUnlessStartedWithin(TimeSpan wait, string reason, string message, TimeProvider clock)
    {
        lock (_stop)
        {
            if (_released == 1)
            {
                return;
            }

            _waitingToStart = true;
            _deadlines.Add(clock.CreateTimer(_ => StopWhileWaiting(reason, message), null, wait, Timeout.InfiniteTimeSpan));
        }
    }

    /// <summary>
    /// The runtime has started the code: the start deadline no longer stops it. True the first time, while the execution
    /// runs (not once stopped or released): then its wall clock starts.
    /// </summary>
    public bool Started()
    {
        lock (_stop)
        {
            var first = _waitingToStart && _stoppedFor is null && _released == 0;
            _waitingToStart = false;
            return first;
        }
    }

    // Under the lock, so that a start told while the timer fires either comes first (and the code runs on) or finds it stopped.
    private void StopWhileWaiting(string reason, string message)
    {
        lock (_stop)
        {
            if (_waitingToStart)
            {
                Stop(reason, message);
            }
        }
    }

    /// <summary>Once the runtime has stopped: timers go, the token is disposed. True the first time.</summary>
    public bool Release()
    {
        lock (_stop)
        {
            if (_released == 1)
            {
                return false;
            }

            _released = 1;
            _deadlines.ForEach(d => d.Dispose());
        }

        _stop.Dispose();
        return true;
    }

    public void Dispose() => Release();
}

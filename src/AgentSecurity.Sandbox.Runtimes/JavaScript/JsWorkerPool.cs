using System.Collections.Concurrent;
using System.Threading.Channels;
using AgentSecurity.Grants;
using AgentSecurity.Sandbox.Host;
using AgentSecurity.Sandbox.Processes;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace AgentSecurity.Sandbox.JavaScript;

/// <summary>
/// JavaScript executions, each in a worker process of its own (<see cref="JsWorker"/>) taken warm from this pool: the
/// pool keeps <see cref="JsWorkerPoolOptions.WarmWorkers"/> started, starts a replacement whenever one is taken, and ends
/// every worker after its one job, whether it answered, crashed, hung or ran out of heap. A worker is never reused, so
/// no tenant's script ever shares an engine or a process with another's. Needs what native executions need (root,
/// bubblewrap); without it every execution answers <c>unavailable</c>, as native ones do.
/// </summary>
public sealed partial class JsWorkerPool : ISandboxRuntime, IAsyncDisposable, IDisposable
{
    private static readonly TimeSpan MaxRetryDelay = TimeSpan.FromMinutes(1);

    private readonly ProcessRuntimeOptions _processes;
    private readonly JsWorkerPoolOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly Channel<JsWorker> _warm = Channel.CreateUnbounded<JsWorker>();

    // Completed (and replaced) each time a worker turns warm, for those who wait for the pool to fill.
    private TaskCompletionSource _warmed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly JsWorkerUsers _users;
    private readonly ConcurrentDictionary<JsWorker, bool> _running = new();
    private readonly ConcurrentDictionary<Task, bool> _background = new();
    private long _keepWarmJobs;
    private readonly CancellationTokenSource _stopping = new();
    private readonly Lock _lock = new();
    private string? _folder;
    private int _starting;
    private int _failures;
    private volatile string? _lastFailure;

    public JsWorkerPool(ProcessRuntimeOptions processes, JsWorkerPoolOptions options, TimeProvider? time = null, ILogger<JsWorkerPool>? logger = null)
    {
        ArgumentNullException.ThrowIfNull(processes);
        ArgumentNullException.ThrowIfNull(options);
        var invalid = new JsWorkerPoolOptionsValidator().Validate(null, options);
        if (invalid.Failed)
        {
            throw new ArgumentException(invalid.FailureMessage, nameof(options));
        }

        _processes = processes;
        _options = options;
        _time = time ?? TimeProvider.System;
        _logger = (ILogger?)logger ?? NullLogger.Instance;
        Unavailable = BubblewrapCommand.Unavailable(processes);
        _users = new JsWorkerUsers(options.UserLockDirectory, options.FirstUserId, options.UserIdCount);
    }

    public string Name => SandboxRuntimes.JavaScript;

    /// <summary>A job waits for a warm worker (up to <see cref="JsWorkerPoolOptions.StartTimeout"/>) before its code starts.</summary>
    public bool StartsLater => true;

    /// <summary>Why JavaScript cannot run on this machine, or null when it can: there is no in-process fallback.</summary>
    public string? Unavailable { get; }

    /// <summary>Workers started and waiting for a job.</summary>
    public int Warm => _warm.Reader.Count;

    /// <summary>The users of the workers running a job now (tests stop or kill them to stand for a crash or a hang).</summary>
    internal IReadOnlyList<uint> RunningUsers => [.. _running.Keys.Select(w => w.User)];

    /// <summary>Keep-warm jobs the workers that answered said they ran before their job (the tests' evidence that they ran).</summary>
    internal long KeepWarmJobs => Interlocked.Read(ref _keepWarmJobs);

    /// <summary>Starts the warm workers in the background (the first execution does it otherwise).</summary>
    public void Start()
    {
        if (Unavailable is null && !_stopping.IsCancellationRequested && Warm + Volatile.Read(ref _starting) < _options.WarmWorkers)
        {
            // Reserving a user, the scratch directory, the socket and the spawn take milliseconds; never the caller's.
            Track(Task.Run(Fill, CancellationToken.None));
        }
    }

    /// <summary>Waits until <see cref="JsWorkerPoolOptions.WarmWorkers"/> workers are warm (benchmarks pace themselves on it).</summary>
    public async Task WaitWarmAsync(CancellationToken cancellation)
    {
        Start();
        while (true)
        {
            // Taken before the count is read: a worker that turns warm after the read completes this very signal.
            var warmed = Volatile.Read(ref _warmed);
            if (Warm >= _options.WarmWorkers)
            {
                return;
            }

            await warmed.Task.WaitAsync(cancellation);
        }
    }

    public async Task<SandboxResult> RunAsync(SandboxJob job, IHostApi host, CancellationToken cancellation)
    {
        ArgumentNullException.ThrowIfNull(job);
        if (Unavailable is not null)
        {
            return SandboxResult.Failed(ReasonCodes.Unavailable, Unavailable, string.Empty, new SandboxUsage());
        }

        Start();
        JsWorker? worker;
        using (var wait = CancellationTokenSource.CreateLinkedTokenSource(cancellation, _stopping.Token))
        {
            wait.CancelAfter(_options.StartTimeout);
            try
            {
                worker = await _warm.Reader.ReadAsync(wait.Token);
            }
            catch (Exception e) when (e is OperationCanceledException or ChannelClosedException)
            {
                worker = null;
            }
        }

        if (worker is null)
        {
            return cancellation.IsCancellationRequested
                ? SandboxResult.Failed(SandboxResult.Cancelled, "the execution was stopped", string.Empty, new SandboxUsage())
                : SandboxResult.Failed(ReasonCodes.Unavailable, $"no JavaScript worker was ready within {_options.StartTimeout.TotalSeconds:0.#} s{(_lastFailure is { } why ? $": {why}" : string.Empty)}", string.Empty, new SandboxUsage());
        }

        _running[worker] = true;
        try
        {
            // The worker's own wall clock starts with the job: the wait above is the pool's, not the code's.
            job.Started?.Invoke();
            return await worker.RunAsync(job, host, _options, cancellation);
        }
        finally
        {
            _running.TryRemove(worker, out _);
            Interlocked.Add(ref _keepWarmJobs, worker.KeepWarmJobs);

            // The replacement starts after the job, not beside it: a .NET start is a burst of CPU that would slow the
            // job's own run on a small machine, and the other warm workers serve executions meanwhile. It starts in
            // the background: its synchronous part (a user's lock file, the scratch directory, the socket, the
            // descriptors' flags) took 4.5 ms at the median on this path.
            Start();
            // Its end is off the execution's path: killing a process tree reads all of /proc, milliseconds on a busy machine.
            Track(Task.Run(() => worker.DisposeAsync().AsTask(), CancellationToken.None));
        }
    }

    /// <summary>Starts workers until warm and starting ones make <see cref="JsWorkerPoolOptions.WarmWorkers"/>.</summary>
    private void Fill()
    {
        while (true)
        {
            uint user;
            lock (_lock)
            {
                if (_stopping.IsCancellationRequested || Warm + _starting >= _options.WarmWorkers || _users.Take() is not { } free)
                {
                    return;
                }

                _starting++;
                user = free;
            }

            Track(StartOneAsync(user));
        }
    }

    private async Task StartOneAsync(uint user)
    {
        try
        {
            if (_failures > 0)
            {
                var delay = TimeSpan.FromMilliseconds(Math.Min(MaxRetryDelay.TotalMilliseconds, 250 * Math.Pow(2, Math.Min(_failures, 10))));
                await Task.Delay(delay, _time, _stopping.Token); // a back-off after failed starts: the wait is the point
            }

            var worker = await JsWorker.StartAsync(_processes, _options, Folder(), user, Release, _time);
            if (_stopping.IsCancellationRequested || !_warm.Writer.TryWrite(worker))
            {
                await worker.DisposeAsync();
                return;
            }

            Interlocked.Exchange(ref _warmed, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();

            _failures = 0;
            _lastFailure = null;
        }
        catch (OperationCanceledException)
        {
            Release(user);
        }
#pragma warning disable CA1031 // A worker that cannot start is logged and retried; the executions waiting answer unavailable.
        catch (Exception e)
#pragma warning restore CA1031
        {
            Release(user); // a second release of a user its worker released is nothing
            _failures++;
            _lastFailure = e.Message;
            LogStartFailed(_logger, e.Message);
        }
        finally
        {
            lock (_lock)
            {
                _starting--;
            }

            Fill();
        }
    }

    private void Release(uint user) => _users.Release(user);

    private string Folder()
    {
        lock (_lock)
        {
            if (_folder is null)
            {
                Sandbox.Workspaces.AgentWorkspace.CreateTraversableScratchRoot(_processes.ScratchRoot);
                _folder = JsWorkerFolder.Stage(Path.Combine(_processes.ScratchRoot, "jsworker-" + Guid.NewGuid().ToString("N")));
            }

            return _folder;
        }
    }

    private void Track(Task task)
    {
        _background[task] = true;
        _ = task.ContinueWith(t => _background.TryRemove(t, out _), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
    }

    public async ValueTask DisposeAsync()
    {
        if (_stopping.IsCancellationRequested)
        {
            return;
        }

        await _stopping.CancelAsync();
        _warm.Writer.TryComplete();
        await Task.WhenAll(_background.Keys).ContinueWith(_ => { }, TaskScheduler.Default);
        while (_warm.Reader.TryRead(out var worker))
        {
            await worker.DisposeAsync();
        }

        if (_folder is not null)
        {
            Directory.Delete(_folder, recursive: true);
        }

        _users.Dispose();
        _stopping.Dispose();
    }

    public void Dispose() => DisposeAsync().AsTask().GetAwaiter().GetResult();

    [LoggerMessage(EventId = 13001, Level = LogLevel.Warning, Message = "A JavaScript worker could not start (retried with a growing delay): {Reason}")]
    private static partial void LogStartFailed(ILogger logger, string reason);
}

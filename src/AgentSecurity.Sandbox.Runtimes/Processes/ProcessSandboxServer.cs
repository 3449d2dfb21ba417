using System.Diagnostics;
using System.Text;
using AgentSecurity.Grants;
using AgentSecurity.Sandbox.Servers;

namespace AgentSecurity.Sandbox.Processes;

/// <summary>
/// A server of <see cref="SandboxServerHost"/>: bubblewrap's process, whose pid namespace's init is the server, so
/// killing bubblewrap's tree ends everything the server started. Standard error is drained into a bounded tail; a
/// watch stops the server at its CPU budget or when it grows its writable workspace past its limits.
/// </summary>
internal sealed class ProcessSandboxServer : SandboxServer
{
    private readonly Process _process;
    private readonly StopReason _stop;
    private readonly LineCappedStream _output;
    private readonly ErrorBuffer _errors;
    private readonly Task _draining;
    private readonly TaskCompletionSource<int> _exited = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly CancellationTokenRegistration _killSwitch;
    private readonly CancellationTokenSource _ended = new();

    /// <summary>Why it ended; written once, before <see cref="Exited"/> completes.</summary>
    private (string? Code, string? Message) _outcome;

    public ProcessSandboxServer(Process process, SandboxServerSpec spec, uint owner, TimeSpan watchInterval, CancellationToken cancellation)
    {
        _process = process;
        _stop = new StopReason(process);
        var limits = spec.Limits;
        _output = new LineCappedStream(process.StandardOutput.BaseStream, limits.MaxLineBytes,
            () => _stop.Kill(ReasonCodes.OutputLimit, $"the server wrote a line longer than {limits.MaxLineBytes} bytes"));
        _errors = new ErrorBuffer(limits.ErrorTailBytes);
        _draining = _errors.DrainAsync(process.StandardError.BaseStream);
        _killSwitch = cancellation.Register(() => _stop.Kill(SandboxResult.Cancelled, "the server was stopped by the kill switch"));
        _ = WatchAsync(spec, owner, process.Id, watchInterval);
        _ = EndAsync(limits);
    }

    public override Stream Input => _process.StandardInput.BaseStream;

    public override Stream Output => _output;

    public override string ErrorTail => _errors.ToString();

    public override Task<int> Exited => _exited.Task;

    public override string? Error => _exited.Task.IsCompleted ? _outcome.Code : null;

    public override string? Message => _exited.Task.IsCompleted ? _outcome.Message : null;

    public override void Kill() => _stop.Kill(SandboxResult.Cancelled, "the server was stopped");

    public override async ValueTask DisposeAsync()
    {
        Kill();
        await _exited.Task;
        await _killSwitch.DisposeAsync();
        await _output.DisposeAsync();
        try
        {
            await _process.StandardInput.BaseStream.DisposeAsync();
        }
        catch (IOException)
        {
            // nothing read what was left in the pipe
        }

        _process.Dispose();
        _ended.Dispose();
    }

    /// <summary>Completes <see cref="Exited"/> once the tree has ended and standard error is read, with why it ended.</summary>
    private async Task EndAsync(SandboxServerLimits limits)
    {
        await _process.WaitForExitAsync(CancellationToken.None);
        await _ended.CancelAsync();

        // The server's tree is gone, so its standard error ends; a descriptor passed elsewhere could hold it open.
        await _draining.WaitAsync(TimeSpan.FromSeconds(5), CancellationToken.None).ContinueWith(_ => { }, TaskScheduler.Default);
        var status = _process.ExitCode;
        _outcome = _stop.Code is not null ? (_stop.Code, _stop.Message) : Classify(status, limits, _errors.ToString(), _errors.Signs);
        _exited.SetResult(status);
    }

    /// <summary>How a server that ended by itself ended, as an error code (null for status 0).</summary>
    private static (string? Code, string? Message) Classify(int status, SandboxServerLimits limits, string errors, StandardErrorSigns signs)
    {
        const int SignalBase = 128;
        const int CpuLimitSignal = 24; // SIGXCPU
        var lastError = errors.Split('\n', StringSplitOptions.RemoveEmptyEntries).LastOrDefault()?.Trim() ?? string.Empty;
        if (status == 0)
        {
            return (null, null);
        }

        if (status == 1 && (lastError.StartsWith("bwrap:", StringComparison.Ordinal) || lastError.StartsWith("setpriv:", StringComparison.Ordinal) || lastError.StartsWith("prlimit:", StringComparison.Ordinal)))
        {
            return (ReasonCodes.Unavailable, $"the server's sandbox could not start it: {lastError}");
        }

        if (status == SignalBase + CpuLimitSignal)
        {
            return (ReasonCodes.FuelExhausted, $"the server used up its CPU time ({limits.CpuTime?.TotalSeconds:0.#} s)");
        }

        if (signs.OutOfMemoryBefore(status, errors))
        {
            return (ReasonCodes.MemoryLimit, $"the server ran out of memory ({limits.MemoryBytes} bytes of address space): {lastError}");
        }

        var how = status > SignalBase ? $"was killed by signal {status - SignalBase}" : $"exited with code {status}";
        return (ReasonCodes.ExecutionFailed, lastError.Length > 0 ? $"the server {how}: {lastError}" : $"the server {how}");
    }

    /// <summary>
    /// The limits no rlimit enforces: the CPU of the whole tree (<c>RLIMIT_CPU</c> is each process's own) and a writable
    /// workspace's size. Nothing to watch (no CPU budget, no writable workspace) costs nothing.
    /// </summary>
    private async Task WatchAsync(SandboxServerSpec spec, uint owner, int root, TimeSpan interval)
    {
        var cpu = spec.Limits.CpuTime;
        var workspace = new WorkspaceWatch(spec.Workspace, spec.WorkspaceAccess, interval);
        if (cpu is null && spec.WorkspaceAccess != WorkspaceAccess.ReadWrite)
        {
            return;
        }

        var watch = Stopwatch.StartNew();
        using var timer = new PeriodicTimer(interval);
        try
        {
            while (await timer.WaitForNextTickAsync(_ended.Token))
            {
                if (cpu is { } budget && AgentProcesses.Of(owner, root).Cpu >= budget)
                {
                    _stop.Kill(ReasonCodes.FuelExhausted, $"the server's processes used up their CPU time together ({budget.TotalSeconds:0.#} s)");
                }
                else if (workspace.Due(watch.Elapsed) && workspace.Overgrown() is { } full)
                {
                    _stop.Kill(ReasonCodes.QuotaExceeded, full);
                }
            }
        }
        catch (OperationCanceledException)
        {
            // the server ended
        }
#pragma warning disable CA1031 // A watch that cannot look fails closed: the server stops, and Exited says why.
        catch (Exception e)
#pragma warning restore CA1031
        {
            _stop.Kill(ReasonCodes.Unavailable, $"the server's limits could not be watched: {e.Message}");
        }
    }

    /// <summary>
    /// The end of standard error, at most a number of bytes, and the signs of a limit anywhere in it; the rest is read and
    /// dropped, so the server never blocks writing it.
    /// </summary>
    private sealed class ErrorBuffer(int limitBytes)
    {
        private readonly Lock _lock = new();
        private readonly Queue<byte> _bytes = new();

        public StandardErrorSigns Signs { get; } = new();

        public async Task DrainAsync(Stream stream)
        {
            var chunk = new byte[8192];
            var chars = new char[chunk.Length];
            try
            {
                int read;
                while ((read = await stream.ReadAsync(chunk)) > 0)
                {
                    // Byte for byte: the signs are ASCII, which no byte of a multi-byte UTF-8 character can fake.
                    Signs.Observe(chars.AsSpan(0, Encoding.Latin1.GetChars(chunk.AsSpan(0, read), chars)));
                    lock (_lock)
                    {
                        foreach (var b in chunk.AsSpan(Math.Max(0, read - limitBytes), Math.Min(read, limitBytes)))
                        {
                            _bytes.Enqueue(b);
                        }

                        while (_bytes.Count > limitBytes)
                        {
                            _bytes.Dequeue();
                        }
                    }
                }
            }
            catch (Exception e) when (e is IOException or ObjectDisposedException)
            {
                // disposed
            }
        }

        public override string ToString()
        {
            lock (_lock)
            {
                return Encoding.UTF8.GetString([.. _bytes]);
            }
        }
    }
}

using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using AgentSecurity.Grants;
using AgentSecurity.Sandbox.Host;
using AgentSecurity.Sandbox.Processes;
using AgentSecurity.Sandbox.Servers;
using AgentSecurity.Sandbox.Worker;

namespace AgentSecurity.Sandbox.JavaScript;

/// <summary>
/// One JavaScript worker process: started in the native sandbox (<see cref="BubblewrapCommand"/>: its own user, no
/// network, the seccomp filter, rlimits, a .NET heap limit) with its host socket, warm once it says
/// <see cref="JsWorkerProgram.Ready"/>, then given one job. However the job ends (a result, a crash, a hang, the heap
/// limit), the worker is killed afterwards and its scratch directory removed: the silo loses one process, nothing else.
/// </summary>
internal sealed class JsWorker : IAsyncDisposable
{
    private const int ScratchMode = 0b111_000_000; // 0700
    private const int StderrTail = 4096;

    private readonly Process _process;
    private readonly string _scratch;
    private readonly HostSocketServer _server;
    private readonly JsWorkerHost _host;
    private readonly StreamReader _results;
    private readonly StringBuilder _errors = new();
    private readonly Task _errorPump;
    private readonly Action<uint> _release;
    private int _disposed;

    private JsWorker(Process process, string scratch, HostSocketServer server, JsWorkerHost host, StreamReader results, uint user, Action<uint> release)
    {
        _process = process;
        _scratch = scratch;
        _server = server;
        _host = host;
        _results = results;
        User = user;
        _release = release;
        _errorPump = PumpErrorsAsync();
    }

    public uint User { get; }

    public int ProcessId => _process.Id;

    /// <summary>Starts a worker as <paramref name="user"/> and waits until it is warm; throws when it ends or says anything else first.</summary>
    public static async Task<JsWorker> StartAsync(ProcessRuntimeOptions processes, JsWorkerPoolOptions options, string folder, uint user, Action<uint> release, TimeProvider time)
    {
        var scratch = Path.Combine(processes.ScratchRoot, "js-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(scratch, (UnixFileMode)ScratchMode);
        var host = new JsWorkerHost();
        HostSocketServer? server = null;
        JsWorker? worker = null;
        try
        {
            var socket = Path.Combine(scratch, "host.sock");
            server = new HostSocketServer(socket, host);
            foreach (var path in (string[])[scratch, socket])
            {
                if (Posix.ChangeOwnerOfPath(path, user, user) != 0)
                {
                    throw new IOException($"{path} cannot be given to user {user}: {Posix.Describe(Posix.LastError)}");
                }
            }

            var process = new Process { StartInfo = BubblewrapCommand.StartInfo(processes, Command(processes, options, folder, scratch, user), scratch) };
            Posix.CloseInheritedOnExec();
            await ProcessLauncher.StartAsync(process);
            var results = new StreamReader(new LineCappedStream(process.StandardOutput.BaseStream, MaxResultBytes, () => Kill(process)), new UTF8Encoding(false));
            worker = new JsWorker(process, scratch, server, host, results, user, release);
        }
        catch
        {
            if (server is not null)
            {
                await server.DisposeAsync();
            }

            Directory.Delete(scratch, recursive: true);
            release(user);
            throw;
        }

        using var deadline = new CancellationTokenSource(options.StartTimeout, time);
        string? ready;
        try
        {
            ready = await worker._results.ReadLineAsync(deadline.Token);
        }
        catch (OperationCanceledException)
        {
            ready = null;
        }

        if (ready != JsWorkerProgram.Ready)
        {
            var why = await worker.EndAsync();
            await worker.DisposeAsync();
            throw new InvalidOperationException($"the JavaScript worker did not start: {why}");
        }

        return worker;
    }

    /// <summary>How many keep-warm jobs the worker said it ran before its job (0 until it answered).</summary>
    public int KeepWarmJobs { get; private set; }

    /// <summary>Runs the job; the worker is used up afterwards, whatever happened.</summary>
    public async Task<SandboxResult> RunAsync(SandboxJob job, IHostApi host, JsWorkerPoolOptions options, CancellationToken cancellation)
    {
        var started = Stopwatch.GetTimestamp();
        var meter = new HostCallMeter(host, job.Limits.HostCalls);
        _host.Begin(meter);
        try
        {
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
            stop.CancelAfter(job.Limits.WallTime + options.KillGrace);
            string? line;
            try
            {
                // One write of the whole line: the worker wakes once, to a job it can read at once.
                byte[] bytes = [.. JsonSerializer.SerializeToUtf8Bytes(WorkerJob.For(job), WorkerJson.Default.WorkerJob), (byte)'\n'];
                await _process.StandardInput.BaseStream.WriteAsync(bytes, stop.Token);
                await _process.StandardInput.BaseStream.FlushAsync(stop.Token);
                line = await _results.ReadLineAsync(stop.Token);
            }
            catch (OperationCanceledException)
            {
                Kill(_process);
                return Failed(cancellation.IsCancellationRequested
                    ? (SandboxResult.Cancelled, "the execution was stopped")
                    : (ReasonCodes.Timeout, $"the script ran out of wall-clock time ({job.Limits.WallTime.TotalMilliseconds:0} ms); its worker was killed"));
            }
            catch (IOException)
            {
                line = null; // the worker went away while the job was written
            }

            if (line is not null && Parse(line) is { } result)
            {
                KeepWarmJobs = Math.Max(0, result.KeepWarmJobs); // the worker's word, for a diagnostic count only: never decides anything
                return new SandboxResult
                {
                    Error = result.Error,
                    Message = result.Message,
                    Output = Clip(result.Output, job.Limits.OutputBytes),
                    Usage = Usage(result.CpuMillis, result.MemoryBytes),
                };
            }

            var why = await EndAsync();
            return Failed(OutOfMemory(why)
                ? (ReasonCodes.MemoryLimit, $"the script ran its worker out of memory ({options.HeapBytes} bytes of heap): {why}")
                : (ReasonCodes.ExecutionFailed, $"the JavaScript worker ended without a result: {why}"));
        }
        finally
        {
            _host.End();
        }

        SandboxUsage Usage(long cpu, long memory) => new()
        {
            CpuMillis = cpu,
            WallMillis = (long)Stopwatch.GetElapsedTime(started).TotalMilliseconds,
            MemoryBytes = memory,
            HostCalls = meter.Calls,
            Denied = meter.Denied,
        };

        SandboxResult Failed((string Code, string Message) failure) => SandboxResult.Failed(failure.Code, failure.Message, string.Empty, Usage(0, 0));
    }

    private static WorkerResult? Parse(string line)
    {
        try
        {
            return JsonSerializer.Deserialize(line, WorkerJson.Default.WorkerResult);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>The worker caps its output; a worker that does not is held to the limit here too.</summary>
    private static string Clip(string output, int limit)
    {
        var buffer = new OutputBuffer(limit);
        buffer.Append(output);
        return buffer.ToString();
    }

    private static bool OutOfMemory(string why) =>
        why.Contains("OutOfMemory", StringComparison.Ordinal) || StandardErrorSigns.Shows(why, StandardErrorSigns.OutOfMemorySigns);

    /// <summary>
    /// The longest result line read from a worker: the largest output an execution may have (the silo's
    /// <c>MaxOutputBytes</c>, 1 MiB by default) as JSON escapes it, with room to spare. A worker cannot know its job's
    /// limit before it is given one, and the job's own limit is applied to the output read (<see cref="Clip"/>).
    /// </summary>
    private const int MaxResultBytes = 16 * 1024 * 1024;

    /// <summary>Kills the worker, waits for it, and says how it ended (exit status and the tail of its standard error).</summary>
    private async Task<string> EndAsync()
    {
        Kill(_process);
        await _process.WaitForExitAsync(CancellationToken.None);
        await _errorPump.WaitAsync(TimeSpan.FromSeconds(2), CancellationToken.None).ContinueWith(_ => { }, TaskScheduler.Default);
        const int SignalBase = 128;
        var code = _process.ExitCode;
        var how = code > SignalBase ? $"killed by signal {code - SignalBase}" : string.Create(CultureInfo.InvariantCulture, $"exit code {code}");
        string errors;
        lock (_errors)
        {
            errors = _errors.ToString().Trim();
        }

        var last = errors.Split('\n', StringSplitOptions.RemoveEmptyEntries).LastOrDefault()?.Trim();
        return last is null ? how : $"{how}; {Clip(errors.Contains("OutOfMemory", StringComparison.Ordinal) ? "OutOfMemoryException" : last, 512)}";
    }

    private async Task PumpErrorsAsync()
    {
        var buffer = new char[4096];
        try
        {
            int read;
            while ((read = await _process.StandardError.ReadAsync(buffer)) > 0)
            {
                lock (_errors)
                {
                    _errors.Append(buffer, 0, read);
                    if (_errors.Length > StderrTail)
                    {
                        _errors.Remove(0, _errors.Length - StderrTail);
                    }
                }
            }
        }
        catch (IOException)
        {
            // the worker is gone
        }
    }

    private static void Kill(Process process)
    {
        try
        {
            process.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException)
        {
            // it ended meanwhile
        }
    }

    private static SandboxedCommand Command(ProcessRuntimeOptions processes, JsWorkerPoolOptions options, string folder, string scratch, uint user)
    {
        // The host socket where native programs find theirs, the staged worker, and the .NET install unless /usr has it.
        List<SandboxBind> binds = [new(scratch, BubblewrapCommand.ScratchMount), new(folder, JsWorkerFolder.Mount)];
        if (!JsWorkerFolder.DotnetRoot.StartsWith("/usr/", StringComparison.Ordinal))
        {
            binds.Add(new SandboxBind(JsWorkerFolder.DotnetRoot, JsWorkerFolder.DotnetRoot));
        }

        return new SandboxedCommand
        {
            Owner = user,
            Workspace = string.Empty,
            Access = WorkspaceAccess.None,
            ReadOnlyBinds = binds,
            Environment =
            [
                new("PATH", "/usr/bin:/bin"),
                new("HOME", "/tmp"),
                new("LANG", "C.UTF-8"),
                new(JsWorkerProgram.HostSocketVariable, BubblewrapCommand.HostSocket),
                new(JsWorkerProgram.KeepWarmVariable, ((long)options.KeepWarmEvery.TotalMilliseconds).ToString(CultureInfo.InvariantCulture)),
                new("DOTNET_ROOT", JsWorkerFolder.DotnetRoot),
                new("DOTNET_GCHeapHardLimit", options.HeapBytes.ToString("x", CultureInfo.InvariantCulture)),
                new("DOTNET_EnableDiagnostics", "0"),
                new("DOTNET_EnableWriteXorExecute", "0"),
                new("DOTNET_NOLOGO", "1"),
                new("DOTNET_CLI_TELEMETRY_OPTOUT", "1"),
            ],
            Command = Path.Combine(JsWorkerFolder.DotnetRoot, "dotnet"),
            Arguments = ["exec", JsWorkerFolder.EntryPoint],
            MemoryBytes = options.AddressSpaceBytes,
            CpuTime = null,
            Processes = options.Threads,
            FileBytes = 1024 * 1024,
            OpenFiles = processes.OpenFiles,
        };
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }

        _host.End();
        if (!_process.HasExited)
        {
            await EndAsync();
        }

        await _server.DisposeAsync();
        _results.Dispose();
        _process.Dispose();
        try
        {
            Directory.Delete(_scratch, recursive: true);
        }
        catch (IOException)
        {
            // a socket file of a process that is gone; the next start uses a new directory
        }

        _release(User);
    }
}

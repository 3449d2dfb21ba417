using System.Diagnostics;
using System.Text;
using AgentSecurity.Grants;
using AgentSecurity.Sandbox.Host;
using AgentSecurity.Sandbox.Servers;
using AgentSecurity.Sandbox.Workspaces;

namespace AgentSecurity.Sandbox.Processes;

/// <summary>
/// Native programs (an ELF executable or a script with a <c>#!</c> line) under bubblewrap, as the agent's own user
/// (<see cref="Workspaces.AgentWorkspace.Owner"/>): the sandbox of <see cref="BubblewrapCommand"/>, the rlimits of the
/// job (address space, CPU, processes, file size), output capped, the whole process tree killed at the wall-clock limit
/// or by the kill switch. The host API is a Unix socket (<see cref="HostSocketServer"/>); there is no network.
/// Needs root (to become the agent's user, which is what makes the process limit the agent's own) and bubblewrap;
/// without them every execution answers <c>unavailable</c>.
/// </summary>
public sealed class ProcessRuntime(ProcessRuntimeOptions options) : ISandboxRuntime
{
    private const int ScratchMode = 0b111_000_000; // 0700

    public string Name => SandboxRuntimes.Process;

    /// <summary>Why native executions cannot run on this machine, or null when they can.</summary>
    public string? Unavailable { get; } = BubblewrapCommand.Unavailable(options);

    public async Task<SandboxResult> RunAsync(SandboxJob job, IHostApi host, CancellationToken cancellation)
    {
        if (Unavailable is not null || job.Workspace.Owner is not { } owner)
        {
            return SandboxResult.Failed(ReasonCodes.Unavailable, Unavailable ?? "the workspace has no owner to run processes as", string.Empty, new SandboxUsage());
        }

        // Left to itself, the kernel would run anything else as a shell script; only a program that says what it is runs.
        if (!job.Code.Span.StartsWith("\u007fELF"u8) && !job.Code.Span.StartsWith("#!"u8))
        {
            return SandboxResult.Failed(ReasonCodes.BadModule, "a native program is an ELF executable or a script starting with #!", string.Empty, new SandboxUsage());
        }

        var scratch = Path.Combine(options.ScratchRoot, Guid.NewGuid().ToString("N"));
        Workspaces.AgentWorkspace.CreateTraversableScratchRoot(options.ScratchRoot);
        Directory.CreateDirectory(scratch, (UnixFileMode)ScratchMode);
        try
        {
            var program = Path.Combine(scratch, "program");
            await File.WriteAllBytesAsync(program, job.Code, CancellationToken.None);
            File.SetUnixFileMode(program, UnixFileMode.UserRead | UnixFileMode.UserExecute);
            var meter = new HostCallMeter(host, job.Limits.HostCalls);
            await using var server = new HostSocketServer(Path.Combine(scratch, "host.sock"), meter);
            GiveTo(owner, scratch, program, Path.Combine(scratch, "host.sock"));
            return await RunProcessAsync(job, owner, scratch, meter, cancellation);
        }
        finally
        {
            Directory.Delete(scratch, recursive: true);
        }
    }

    private async Task<SandboxResult> RunProcessAsync(SandboxJob job, uint owner, string scratch, HostCallMeter meter, CancellationToken cancellation)
    {
        var start = BubblewrapCommand.StartInfo(options, new SandboxedCommand
        {
            Owner = owner,
            Workspace = job.Workspace.Directory,
            Access = job.WorkspaceAccess,
            ReadOnlyBinds = [new SandboxBind(scratch, BubblewrapCommand.ScratchMount)],
            Environment =
            [
                new("PATH", "/usr/local/bin:/usr/bin:/bin"),
                new("HOME", AgentWorkspace.Mount),
                new("LANG", "C.UTF-8"),
                new("AGENTSEC_HOST_SOCKET", BubblewrapCommand.HostSocket),
            ],
            Command = BubblewrapCommand.Program,
            MemoryBytes = job.Limits.MemoryBytes,
            CpuTime = job.Limits.CpuTime,
            Processes = job.Limits.Processes,
            FileBytes = job.Limits.FileBytes,
            OpenFiles = options.OpenFiles,
        }, scratch);

        var watch = Stopwatch.StartNew();
        using var process = new Process { StartInfo = start };
        var output = new OutputBuffer(job.Limits.OutputBytes);
        var errors = new StringBuilder(); // the tail of standard error, for the message of why it failed
        var signs = new StandardErrorSigns();
        var stop = new StopReason(process);
        // bubblewrap passes every open descriptor on to the sandbox: the child must inherit none but the standard three.
        Posix.CloseInheritedOnExec();
        var workspace = new WorkspaceWatch(job.Workspace, job.WorkspaceAccess, options.WorkspaceInterval);
        await ProcessLauncher.StartAsync(process);
        var peak = new AgentProcesses(0, TimeSpan.Zero, 0);

        var pumps = Task.WhenAll(
            PumpAsync(process.StandardOutput.BaseStream, output, null, null, stop, job.Limits.OutputBytes),
            PumpAsync(process.StandardError.BaseStream, output, errors, signs, stop, job.Limits.OutputBytes),
            FeedAsync(process.StandardInput.BaseStream, job.Input));
        var exited = process.WaitForExitAsync(CancellationToken.None);
        while (!exited.IsCompleted)
        {
            await Task.WhenAny(exited, Task.Delay(options.WatchInterval, CancellationToken.None));
            if (cancellation.IsCancellationRequested)
            {
                stop.Kill(SandboxResult.Cancelled, "the execution was stopped");
            }
            else if (watch.Elapsed >= job.Limits.WallTime)
            {
                stop.Kill(ReasonCodes.Timeout, $"the process ran out of wall-clock time ({job.Limits.WallTime.TotalMilliseconds:0} ms)");
            }
            else
            {
                var now = AgentProcesses.Of(owner, process.Id);
                peak = new AgentProcesses(Math.Max(peak.Count, now.Count), now.Cpu > peak.Cpu ? now.Cpu : peak.Cpu, Math.Max(peak.ResidentBytes, now.ResidentBytes));
                if (now.Count >= job.Limits.Processes)
                {
                    stop.Kill(ReasonCodes.ProcessLimit, $"the agent reached its limit of {job.Limits.Processes} processes");
                }
                else if (now.Cpu >= job.Limits.CpuTime)
                {
                    // RLIMIT_CPU is each process's own: the budget is the execution's, all its processes together.
                    stop.Kill(ReasonCodes.FuelExhausted, $"the processes used up their CPU time together ({job.Limits.CpuTime.TotalSeconds:0.#} s)");
                }
                else if (workspace.Due(watch.Elapsed) && workspace.Overgrown() is { } full)
                {
                    stop.Kill(ReasonCodes.QuotaExceeded, full);
                }
            }
        }

        await exited;
        await pumps.WaitAsync(TimeSpan.FromSeconds(5), CancellationToken.None).ContinueWith(_ => { }, TaskScheduler.Default);
        var result = new SandboxUsage
        {
            CpuMillis = (long)peak.Cpu.TotalMilliseconds,
            WallMillis = watch.ElapsedMilliseconds,
            MemoryBytes = peak.ResidentBytes,
            HostCalls = meter.Calls,
            Denied = meter.Denied,
        };
        var (code, message) = stop.Code is not null ? (stop.Code, stop.Message) : Classify(process.ExitCode, peak.Cpu, job.Limits, errors.ToString(), signs);
        if (code is null or ReasonCodes.ExecutionFailed && workspace.Overgrown() is { } overgrown)
        {
            (code, message) = (ReasonCodes.QuotaExceeded, overgrown);
        }

        return new SandboxResult { Error = code, Message = message, Output = output.ToString(), Usage = result };
    }

    /// <summary>How a process that ended by itself ended, as an error code (null when it succeeded).</summary>
    private static (string? Code, string? Message) Classify(int exitCode, TimeSpan cpu, SandboxLimits limits, string errors, StandardErrorSigns signs)
    {
        const int SignalBase = 128;
        const int CpuLimitSignal = 24;     // SIGXCPU
        const int FileSizeSignal = 25;     // SIGXFSZ
        const int KillSignal = 9;
        var lastError = errors.Split('\n', StringSplitOptions.RemoveEmptyEntries).LastOrDefault()?.Trim() ?? string.Empty;
        if (exitCode == 0)
        {
            return (null, null);
        }

        if (exitCode == 1 && (lastError.StartsWith("bwrap:", StringComparison.Ordinal) || lastError.StartsWith("setpriv:", StringComparison.Ordinal) || lastError.StartsWith("prlimit:", StringComparison.Ordinal)))
        {
            return (ReasonCodes.Unavailable, $"the sandbox could not start: {lastError}");
        }

        if (exitCode == SignalBase + CpuLimitSignal || (exitCode == SignalBase + KillSignal && cpu >= limits.CpuTime * 0.9))
        {
            return (ReasonCodes.FuelExhausted, $"the process used up its CPU time ({limits.CpuTime.TotalSeconds:0.#} s)");
        }

        // As its namespace's init the program ignores SIGXFSZ, and the write fails instead.
        if (exitCode == SignalBase + FileSizeSignal || errors.Contains("File too large", StringComparison.Ordinal))
        {
            return (ReasonCodes.QuotaExceeded, $"the process wrote a file larger than {limits.FileBytes} bytes");
        }

        if (StandardErrorSigns.Shows(errors, StandardErrorSigns.ProcessLimitSigns))
        {
            return (ReasonCodes.ProcessLimit, $"the process could not start more processes (at most {limits.Processes}): {lastError}");
        }

        if (signs.OutOfMemoryBefore(exitCode, errors))
        {
            return (ReasonCodes.MemoryLimit, $"the process ran out of memory ({limits.MemoryBytes} bytes of address space): {lastError}");
        }

        var how = exitCode > SignalBase ? $"was killed by signal {exitCode - SignalBase}" : $"exited with code {exitCode}";
        return (ReasonCodes.ExecutionFailed, lastError.Length > 0 ? $"the process {how}: {lastError}" : $"the process {how}");
    }

    /// <summary>Copies a stream into the output; past the limit the process is killed (<c>output_limit</c>).</summary>
    private static async Task PumpAsync(Stream stream, OutputBuffer output, StringBuilder? errors, StandardErrorSigns? signs, StopReason stop, int limit)
    {
        var decoder = new UTF8Encoding(false).GetDecoder();
        var bytes = new byte[8192];
        var chars = new char[8192 + 1];
        int read;
        while ((read = await stream.ReadAsync(bytes)) > 0)
        {
            var count = decoder.GetChars(bytes, 0, read, chars, 0);
            var text = new string(chars, 0, count);
            signs?.Observe(text);
            if (errors is not null)
            {
                errors.Append(text);
                if (errors.Length > 4096)
                {
                    errors.Remove(0, errors.Length - 4096);
                }
            }

            if (!output.Append(text))
            {
                stop.Kill(ReasonCodes.OutputLimit, $"the output exceeded {limit} bytes");
                return;
            }
        }
    }

    private static async Task FeedAsync(Stream input, string text)
    {
        try
        {
            await using (input)
            {
                await input.WriteAsync(Encoding.UTF8.GetBytes(text));
            }
        }
        catch (IOException)
        {
            // the program did not read its input
        }
    }

    /// <summary>Hands the execution's scratch files to the agent's user (created by root in a directory only root can write).</summary>
    private static void GiveTo(uint owner, params string[] paths)
    {
        foreach (var path in paths)
        {
            if (Posix.ChangeOwnerOfPath(path, owner, owner) != 0)
            {
                throw new IOException($"{path} cannot be given to user {owner}: {Posix.Describe(Posix.LastError)}");
            }
        }
    }
}

using System.Diagnostics;
using AgentSecurity.Grants;
using AgentSecurity.Sandbox.Host;

namespace AgentSecurity.Sandbox;

/// <summary>
/// What an in-process runtime (WebAssembly, JavaScript) shares with the code it runs: the input, the capped output,
/// the metered host API, and the two ways an execution is stopped from outside: the wall-clock deadline and the
/// kernel's kill switch. Lives on the execution's own thread.
/// </summary>
internal sealed class InProcessExecution(string input, SandboxLimits limits, IHostApi host, CancellationToken cancellation)
{
    public InProcessExecution(SandboxJob job, IHostApi host, CancellationToken cancellation)
        : this(job.Input, job.Limits, host, cancellation)
    {
    }

    private readonly long _started = Stopwatch.GetTimestamp();
    private readonly TimeSpan _cpuAtStart = ThreadCpuClock.Now();

    public string Input { get; } = input;

    public OutputBuffer Output { get; } = new(limits.OutputBytes);

    public HostCallMeter Host { get; } = new(host, limits.HostCalls);

    public SandboxLimits Limits { get; } = limits;

    public CancellationToken Cancellation { get; } = cancellation;

    public TimeSpan Elapsed => Stopwatch.GetElapsedTime(_started);

    /// <summary>Whether the execution's wall-clock limit is up.</summary>
    public bool OutOfWallTime => Elapsed >= Limits.WallTime;

    /// <summary>Ends the execution (by throwing <see cref="SandboxException"/>) once it was cancelled or its wall time is up.</summary>
    public void ThrowIfStopped()
    {
        if (Cancellation.IsCancellationRequested)
        {
            throw new SandboxException(SandboxResult.Cancelled, "the execution was stopped");
        }

        if (OutOfWallTime)
        {
            throw new SandboxException(ReasonCodes.Timeout, $"the execution ran out of wall-clock time ({Limits.WallTime.TotalMilliseconds:0} ms)");
        }
    }

    /// <summary>
    /// Ends the execution with <c>fuel_exhausted</c> once its thread has used the CPU budget. The runtimes count
    /// instructions (fuel, statements) calibrated on a quiet machine; a busy one runs fewer of them per CPU
    /// millisecond, so the thread's own clock, which is also what the usage reports, bounds the budget too.
    /// </summary>
    public void ThrowIfCpuSpent()
    {
        if (ThreadCpuClock.Now() - _cpuAtStart >= Limits.CpuTime)
        {
            throw new SandboxException(ReasonCodes.FuelExhausted, $"the execution used up its CPU budget ({Limits.CpuTime.TotalMilliseconds:0} ms of CPU)");
        }
    }

    /// <summary>Appends output, ending the execution with <c>output_limit</c> when it would exceed the limit.</summary>
    public void Write(string text)
    {
        if (!Output.Append(text))
        {
            throw new SandboxException(ReasonCodes.OutputLimit, $"the output exceeded {Limits.OutputBytes} bytes");
        }
    }

    /// <summary>A host call from the execution's thread, which waits for the kernel's answer.</summary>
    public HostReply Call(HostCall call)
    {
        ThrowIfStopped();
        var reply = Host.CallAsync(call).AsTask().GetAwaiter().GetResult();
        if (reply.Error == SandboxResult.Cancelled)
        {
            ThrowIfStopped();
        }

        return reply;
    }

    public SandboxResult Finish(string? error, string? message, long memoryBytes) => new()
    {
        Error = error,
        Message = message,
        Output = Output.ToString(),
        Usage = new SandboxUsage
        {
            CpuMillis = (long)(ThreadCpuClock.Now() - _cpuAtStart).TotalMilliseconds,
            WallMillis = (long)Elapsed.TotalMilliseconds,
            MemoryBytes = memoryBytes,
            HostCalls = Host.Calls,
            Denied = Host.Denied,
        },
    };
}

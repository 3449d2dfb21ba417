namespace AgentSecurity.Sandbox.Worker;

/// <summary>
/// The one job a JavaScript worker runs, as the pool writes it on the worker's standard input (one JSON line): the
/// script, its input and the limits the worker enforces itself. The pool enforces the wall time from outside too, and
/// meters the host calls on its side of the socket, so a worker that ignores these gains nothing.
/// </summary>
internal sealed record WorkerJob
{
    public required byte[] Code { get; init; }

    public required string Input { get; init; }

    public required long WallMillis { get; init; }

    public required long CpuMillis { get; init; }

    public required long MemoryBytes { get; init; }

    public required int OutputBytes { get; init; }

    public required int HostCalls { get; init; }

    public SandboxLimits Limits => new()
    {
        WallTime = TimeSpan.FromMilliseconds(WallMillis),
        CpuTime = TimeSpan.FromMilliseconds(CpuMillis),
        MemoryBytes = MemoryBytes,
        OutputBytes = OutputBytes,
        HostCalls = HostCalls,
    };

    public static WorkerJob For(SandboxJob job)
    {
        ArgumentNullException.ThrowIfNull(job);
        return new()
        {
            Code = job.Code.ToArray(),
            Input = job.Input,
            WallMillis = (long)job.Limits.WallTime.TotalMilliseconds,
            CpuMillis = (long)job.Limits.CpuTime.TotalMilliseconds,
            MemoryBytes = job.Limits.MemoryBytes,
            OutputBytes = job.Limits.OutputBytes,
            HostCalls = job.Limits.HostCalls,
        };
    }
}

namespace AgentSecurity.Sandbox.Worker;

/// <summary>How the worker's job ended, as the worker writes it on its standard output (one JSON line).</summary>
internal sealed record WorkerResult
{
    public string? Error { get; init; }

    public string? Message { get; init; }

    public string Output { get; init; } = string.Empty;

    public long CpuMillis { get; init; }

    public long WallMillis { get; init; }

    public long MemoryBytes { get; init; }

    /// <summary>How many keep-warm jobs the worker ran while it waited for this one: how the silo's tests see them run.</summary>
    public int KeepWarmJobs { get; init; }

    public static WorkerResult Of(SandboxResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        return new()
        {
            Error = result.Error,
            Message = result.Message,
            Output = result.Output,
            CpuMillis = result.Usage.CpuMillis,
            WallMillis = result.Usage.WallMillis,
            MemoryBytes = result.Usage.MemoryBytes,
        };
    }
}

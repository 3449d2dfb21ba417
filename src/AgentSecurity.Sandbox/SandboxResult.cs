namespace AgentSecurity.Sandbox;

/// <summary>How an execution ended: its output (possibly partial), and an error code of <c>contracts/cli.md</c> if it failed.</summary>
public sealed record SandboxResult
{
    /// <summary>The error of an execution stopped by its cancellation token; the kernel replaces it with its reason.</summary>
    public const string Cancelled = "cancelled";

    public bool Ok => Error is null;

    public string Output { get; init; } = string.Empty;

    /// <summary><c>fuel_exhausted</c>, <c>timeout</c>, <c>memory_limit</c>, <c>output_limit</c>, <c>process_limit</c>, <c>sandbox_violation</c>, <c>bad_module</c>, or null.</summary>
    public string? Error { get; init; }

    public string? Message { get; init; }

    public SandboxUsage Usage { get; init; } = new();

    public static SandboxResult Failed(string code, string message, string output, SandboxUsage usage) =>
        new() { Error = code, Message = message, Output = output, Usage = usage };
}

/// <summary>What an execution used.</summary>
public sealed record SandboxUsage
{
    public long CpuMillis { get; init; }

    public long WallMillis { get; init; }

    /// <summary>Peak memory: linear memory (wasm), the engine's estimate (js), maximum resident set (process).</summary>
    public long MemoryBytes { get; init; }

    public long HostCalls { get; init; }

    /// <summary>Host calls the kernel denied.</summary>
    public long Denied { get; init; }
}

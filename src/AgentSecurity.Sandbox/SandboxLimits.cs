namespace AgentSecurity.Sandbox;

/// <summary>
/// What one execution may use. The kernel fills these from the grant's <c>resourceLimits</c>, capped by the
/// platform's <c>SandboxOptions</c>; every runtime enforces each one it can (see docs/sandboxes.md).
/// </summary>
public sealed record SandboxLimits
{
    /// <summary>Wall-clock time from start to kill.</summary>
    public TimeSpan WallTime { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>CPU time: WebAssembly fuel and JavaScript statements are derived from it; processes get RLIMIT_CPU.</summary>
    public TimeSpan CpuTime { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>Memory: linear memory (wasm), the engine's allocation (js), address space (process).</summary>
    public long MemoryBytes { get; init; } = 64L * 1024 * 1024;

    /// <summary>Bytes of output kept; more is <c>output_limit</c>.</summary>
    public int OutputBytes { get; init; } = 64 * 1024;

    /// <summary>Host calls one execution may make.</summary>
    public int HostCalls { get; init; } = 10_000;

    /// <summary>Processes (RLIMIT_NPROC) of a native execution.</summary>
    public int Processes { get; init; } = 32;

    /// <summary>Largest file a native execution may write (RLIMIT_FSIZE).</summary>
    public long FileBytes { get; init; } = 16L * 1024 * 1024;
}

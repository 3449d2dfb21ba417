using AgentSecurity.Grants.Capabilities;
using AgentSecurity.Sandbox;

namespace AgentSecurity.Grains.Execution;

/// <summary>
/// An execution's limits: the grant's <c>resourceLimits</c> where it sets them, the platform's defaults where it does not,
/// never above the platform's maximums. The same <see cref="PlatformLimits"/> judge delegations and admin ceilings, so an
/// absent limit means one thing everywhere.
/// </summary>
public static class ExecutionLimits
{
    /// <summary>The platform's defaults and maximums: the sandbox's execution limits and the agent memory store's size.</summary>
    public static PlatformLimits Platform(SandboxOptions o, AgentSecurityOptions agents) => new(
        Limits(o.DefaultMemoryBytes, o.DefaultCpuMillis, o.DefaultWallMillis, o.DefaultOutputBytes, o.DefaultConcurrentExecutions, agents.MaxMemoryBytesPerAgent),
        Limits(o.MaxMemoryBytes, o.MaxCpuMillis, o.MaxWallMillis, o.MaxOutputBytes, o.MaxConcurrentExecutions, agents.MaxMemoryBytesPerAgent));

    private static ResourceLimits Limits(long memory, long cpu, long wall, long output, long concurrent, long stored) => new()
    {
        MaxMemoryBytes = memory,
        MaxCpuMillis = cpu,
        MaxWallMillis = wall,
        MaxOutputBytes = output,
        MaxConcurrentExecutions = concurrent,
        MemoryBytesStored = stored,
    };

    internal static SandboxLimits For(ResourceLimits grant, PlatformLimits platform, SandboxOptions o) => new()
    {
        MemoryBytes = platform.Effective("maxMemoryBytes", grant.MaxMemoryBytes) ?? o.DefaultMemoryBytes,
        CpuTime = TimeSpan.FromMilliseconds(platform.Effective("maxCpuMillis", grant.MaxCpuMillis) ?? o.DefaultCpuMillis),
        WallTime = TimeSpan.FromMilliseconds(platform.Effective("maxWallMillis", grant.MaxWallMillis) ?? o.DefaultWallMillis),
        OutputBytes = (int)(platform.Effective("maxOutputBytes", grant.MaxOutputBytes) ?? o.DefaultOutputBytes),
        HostCalls = o.HostCallsPerExecution,
        Processes = o.ProcessesPerExecution,
        FileBytes = o.MaxFileWriteBytes,
    };

    /// <summary>Executions at once; a grant may say 0, which forbids executions.</summary>
    internal static long Concurrency(ResourceLimits grant, PlatformLimits platform, SandboxOptions o) =>
        platform.Effective("maxConcurrentExecutions", grant.MaxConcurrentExecutions) ?? o.DefaultConcurrentExecutions;
}

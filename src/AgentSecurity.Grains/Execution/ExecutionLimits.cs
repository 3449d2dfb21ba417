using AgentSecurity.Grants.Capabilities;
using AgentSecurity.Sandbox;

namespace AgentSecurity.Grains.Execution;

/// <summary>An execution's limits: the grant's <c>resourceLimits</c> where it sets them, the platform's defaults where it does not, never above the platform's maximums.</summary>
internal static class ExecutionLimits
{
    public static SandboxLimits For(ResourceLimits grant, SandboxOptions o) => new()
    {
        MemoryBytes = Pick(grant.MaxMemoryBytes, o.DefaultMemoryBytes, o.MaxMemoryBytes),
        CpuTime = TimeSpan.FromMilliseconds(Pick(grant.MaxCpuMillis, o.DefaultCpuMillis, o.MaxCpuMillis)),
        WallTime = TimeSpan.FromMilliseconds(Pick(grant.MaxWallMillis, o.DefaultWallMillis, o.MaxWallMillis)),
        OutputBytes = (int)Pick(grant.MaxOutputBytes, o.DefaultOutputBytes, o.MaxOutputBytes),
        HostCalls = o.HostCallsPerExecution,
        Processes = o.ProcessesPerExecution,
        FileBytes = o.MaxFileWriteBytes,
    };

    /// <summary>Executions at once; a grant may say 0, which forbids executions.</summary>
    public static long Concurrency(ResourceLimits grant, SandboxOptions o) =>
        Math.Clamp(grant.MaxConcurrentExecutions ?? o.DefaultConcurrentExecutions, 0, o.MaxConcurrentExecutions);

    private static long Pick(long? granted, long fallback, long max) => Math.Clamp(granted ?? fallback, 1, max);
}

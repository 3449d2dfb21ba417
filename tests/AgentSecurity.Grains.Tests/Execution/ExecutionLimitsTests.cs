using AgentSecurity.Grains.Execution;
using AgentSecurity.Grants.Capabilities;
using AgentSecurity.Sandbox;

namespace AgentSecurity.Grains.Tests.Execution;

/// <summary>
/// An execution's limits come from the same <see cref="PlatformLimits"/> that judge delegations and admin ceilings, so
/// an absent limit means one thing everywhere: what the sandbox runs under must agree with it.
/// </summary>
public sealed class ExecutionLimitsTests
{
    private static readonly SandboxOptions Sandbox = new();

    private static readonly PlatformLimits Platform = ExecutionLimits.Platform(Sandbox, new AgentSecurityOptions());

    /// <summary>The execution limits the sandbox gets, by their names in a grant.</summary>
    private static readonly string[] SandboxLimitNames = ["maxMemoryBytes", "maxCpuMillis", "maxWallMillis", "maxOutputBytes"];

    /// <summary>Values a grant may say for a limit: nothing, below the floor, small, between the defaults and maximums, and beyond.</summary>
    private static readonly long?[] GrantedValues = [null, -1, 0, 1, 3_000, 100_000, 100_000_000, long.MaxValue];

    public static TheoryData<long?> Granted => new(GrantedValues);

    public static TheoryData<string, long?> SandboxLimitGranted
    {
        get
        {
            var data = new TheoryData<string, long?>();
            foreach (var name in SandboxLimitNames)
            {
                foreach (var granted in GrantedValues)
                {
                    data.Add(name, granted);
                }
            }

            return data;
        }
    }

    private static long? SandboxValue(string name, SandboxLimits limits) => name switch
    {
        "maxMemoryBytes" => limits.MemoryBytes,
        "maxCpuMillis" => (long)limits.CpuTime.TotalMilliseconds,
        "maxWallMillis" => (long)limits.WallTime.TotalMilliseconds,
        "maxOutputBytes" => limits.OutputBytes,
        _ => throw new ArgumentOutOfRangeException(nameof(name), name, "not a sandbox limit"),
    };

    [Fact]
    public void Platform_DefaultOptions_AreTheSandboxesDefaultsAndMaximums()
    {
        Assert.Equal(
            ResourceLimits.None with
            {
                MaxMemoryBytes = 64L << 20,
                MaxCpuMillis = 2_000,
                MaxWallMillis = 5_000,
                MaxOutputBytes = 64 << 10,
                MaxConcurrentExecutions = 2,
                MemoryBytesStored = 1 << 20,
            },
            Platform.Defaults);
        Assert.Equal(
            ResourceLimits.None with
            {
                MaxMemoryBytes = 512L << 20,
                MaxCpuMillis = 60_000,
                MaxWallMillis = 120_000,
                MaxOutputBytes = 1 << 20,
                MaxConcurrentExecutions = 16,
                MemoryBytesStored = 1 << 20,
            },
            Platform.Maximums);
    }

    [Fact]
    public void Platform_AgentMemoryCap_IsBothDefaultAndMaximumOfMemoryBytesStored()
    {
        var platform = ExecutionLimits.Platform(Sandbox, new AgentSecurityOptions { MaxMemoryBytesPerAgent = 4_096 });

        Assert.Equal((4_096L, 4_096L), (platform.Defaults.MemoryBytesStored, platform.Maximums.MemoryBytesStored));
        Assert.Equal(4_096, platform.Effective("memoryBytesStored", 1L << 30));
    }

    [Fact]
    public void For_GrantWithoutLimits_RunsUnderTheDefaultsAndTheSilosPerExecutionCaps()
    {
        var limits = ExecutionLimits.For(ResourceLimits.None, Platform, Sandbox);

        Assert.Equal(64L << 20, limits.MemoryBytes);
        Assert.Equal(TimeSpan.FromSeconds(2), limits.CpuTime);
        Assert.Equal(TimeSpan.FromSeconds(5), limits.WallTime);
        Assert.Equal(64 << 10, limits.OutputBytes);
        Assert.Equal((10_000, 32, 16L << 20), (limits.HostCalls, limits.Processes, limits.FileBytes));
    }

    [Fact]
    public void For_GrantAboveEveryMaximum_IsCappedAtTheMaximums()
    {
        var grant = ResourceLimits.None with { MaxMemoryBytes = long.MaxValue, MaxCpuMillis = long.MaxValue, MaxWallMillis = long.MaxValue, MaxOutputBytes = long.MaxValue };

        var limits = ExecutionLimits.For(grant, Platform, Sandbox);

        Assert.Equal(512L << 20, limits.MemoryBytes);
        Assert.Equal(TimeSpan.FromMinutes(1), limits.CpuTime);
        Assert.Equal(TimeSpan.FromMinutes(2), limits.WallTime);
        Assert.Equal(1 << 20, limits.OutputBytes);
    }

    [Theory]
    [MemberData(nameof(SandboxLimitGranted))]
    public void For_OneLimitGranted_AgreesWithPlatformLimitsAndLeavesTheOthersAtTheirDefaults(string name, long? granted)
    {
        var grant = granted is { } value ? ResourceLimits.None.With(name, value) : ResourceLimits.None;

        var limits = ExecutionLimits.For(grant, Platform, Sandbox);

        Assert.All(SandboxLimitNames, limit => Assert.Equal(Platform.Effective(limit, limit == name ? granted : null), SandboxValue(limit, limits)));
    }

    [Theory]
    [MemberData(nameof(Granted))]
    public void Concurrency_AnyGrantedValue_AgreesWithPlatformLimits(long? granted)
    {
        var concurrency = ExecutionLimits.Concurrency(ResourceLimits.None with { MaxConcurrentExecutions = granted }, Platform, Sandbox);

        Assert.Equal(Platform.Effective("maxConcurrentExecutions", granted), concurrency);
    }

    [Theory]
    [InlineData(null, 2)]
    [InlineData(0L, 0)] // a grant may forbid executions
    [InlineData(-3L, 0)]
    [InlineData(5L, 5)]
    [InlineData(100L, 16)]
    public void Concurrency_IsTheGrantsWithinTheSilosBounds(long? granted, long expected) =>
        Assert.Equal(expected, ExecutionLimits.Concurrency(ResourceLimits.None with { MaxConcurrentExecutions = granted }, Platform, Sandbox));
}

using AgentSecurity.Grants.Capabilities;

namespace AgentSecurity.Grants.Tests.Capabilities;

/// <summary>
/// The one meaning of an absent limit: the platform's default where it has one, unlimited where it has none, and
/// never above the platform's maximum or below what an execution needs to run at all.
/// </summary>
public sealed class PlatformLimitsTests
{
    /// <summary>A silo's defaults and maximums (<c>SandboxOptions</c> and the agent memory store), as configured by default.</summary>
    private static readonly PlatformLimits Platform = new(
        ResourceLimits.None with { MaxMemoryBytes = 64 << 20, MaxCpuMillis = 2_000, MaxWallMillis = 5_000, MaxOutputBytes = 64 << 10, MaxConcurrentExecutions = 2, MemoryBytesStored = 1 << 20 },
        ResourceLimits.None with { MaxMemoryBytes = 512 << 20, MaxCpuMillis = 60_000, MaxWallMillis = 120_000, MaxOutputBytes = 1 << 20, MaxConcurrentExecutions = 16, MemoryBytesStored = 1 << 20 });

    /// <summary>Every limit the platform has a default for, with that default.</summary>
    public static TheoryData<string, long> Defaults => new()
    {
        { "maxMemoryBytes", 64 << 20 },
        { "maxCpuMillis", 2_000 },
        { "maxWallMillis", 5_000 },
        { "maxOutputBytes", 64 << 10 },
        { "maxConcurrentExecutions", 2 },
        { "memoryBytesStored", 1 << 20 },
    };

    /// <summary>Every limit the platform has a maximum for, with that maximum.</summary>
    public static TheoryData<string, long> Maximums => new()
    {
        { "maxMemoryBytes", 512 << 20 },
        { "maxCpuMillis", 60_000 },
        { "maxWallMillis", 120_000 },
        { "maxOutputBytes", 1 << 20 },
        { "maxConcurrentExecutions", 16 },
        { "memoryBytesStored", 1 << 20 },
    };

    [Theory]
    [MemberData(nameof(Defaults))]
    public void Effective_GrantSaysNothing_IsThePlatformDefault(string name, long defaultValue) =>
        Assert.Equal(defaultValue, Platform.Effective(name, null));

    [Theory]
    [MemberData(nameof(Maximums))]
    public void Effective_GrantAboveTheMaximum_IsTheMaximum(string name, long maximum)
    {
        Assert.Equal(maximum, Platform.Effective(name, maximum + 1));
        Assert.Equal(maximum, Platform.Effective(name, long.MaxValue));
    }

    [Theory]
    [MemberData(nameof(Maximums))]
    public void Effective_GrantWithinBounds_IsWhatTheGrantSays(string name, long maximum)
    {
        Assert.Equal(maximum, Platform.Effective(name, maximum));
        Assert.Equal(1, Platform.Effective(name, 1));
    }

    [Theory]
    [InlineData("maxMemoryBytes", 1)]
    [InlineData("maxCpuMillis", 1)]
    [InlineData("maxWallMillis", 1)]
    [InlineData("maxOutputBytes", 1)]
    [InlineData("maxConcurrentExecutions", 0)]
    [InlineData("memoryBytesStored", 0)]
    [InlineData("checksPerSecond", 0)]
    public void Effective_ZeroOrNegative_IsTheFloor(string name, long floor)
    {
        // An execution cannot run without memory, CPU, wall time or output; zero executions at once is a real
        // setting (no executions), as is a rate or a store of zero.
        Assert.Equal(floor, Platform.Effective(name, 0));
        Assert.Equal(floor, Platform.Effective(name, -5));
    }

    [Fact]
    public void Effective_MaximumBelowTheFloor_IsTheFloor()
    {
        var platform = new PlatformLimits(ResourceLimits.None, ResourceLimits.None with { MaxCpuMillis = 0, MaxConcurrentExecutions = 0 });

        Assert.Equal(1, platform.Effective("maxCpuMillis", 500));
        Assert.Equal(0, platform.Effective("maxConcurrentExecutions", 3));
    }

    [Theory]
    [InlineData("checksPerSecond")]
    [InlineData("networkRequestsPerMinute")]
    [InlineData("llmTokensPerHour")]
    [InlineData("fileBytesWrittenPerHour")]
    public void Effective_RateWithoutDefaultOrMaximum_IsUnlimitedWhenAbsentAndUncappedWhenSet(string name)
    {
        Assert.Null(Platform.Effective(name, null));
        Assert.Equal(1_000_000_000_000, Platform.Effective(name, 1_000_000_000_000));
    }

    [Fact]
    public void Effective_MaximumWithoutADefault_BoundsAnAbsentLimit()
    {
        var platform = new PlatformLimits(ResourceLimits.None, ResourceLimits.None with { MaxMemoryBytes = 512 });

        Assert.Equal(512, platform.Effective("maxMemoryBytes", null));
        Assert.Equal(100, platform.Effective("maxMemoryBytes", 100));
    }

    [Fact]
    public void None_EveryLimitAbsent_IsUnlimited()
    {
        Assert.All(ResourceLimits.Names, name => Assert.Null(PlatformLimits.None.Effective(name, null)));
        Assert.True(PlatformLimits.None.EffectiveOf(ResourceLimits.None).IsEmpty);
    }

    [Fact]
    public void EffectiveOf_Grant_IsEffectiveOfEveryLimit()
    {
        var granted = ResourceLimits.None with { MaxMemoryBytes = 1L << 40, MaxCpuMillis = 0, ChecksPerSecond = 10, MaxConcurrentExecutions = 0 };

        var effective = Platform.EffectiveOf(granted);

        Assert.Equal(
            ResourceLimits.None with
            {
                MaxMemoryBytes = 512 << 20,
                MaxCpuMillis = 1,
                MaxWallMillis = 5_000,
                MaxOutputBytes = 64 << 10,
                MaxConcurrentExecutions = 0,
                ChecksPerSecond = 10,
                MemoryBytesStored = 1 << 20,
            },
            effective);
        Assert.All(ResourceLimits.Names, name => Assert.Equal(Platform.Effective(name, granted.Get(name)), effective.Get(name)));
    }
}

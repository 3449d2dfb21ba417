using AgentSecurity.Grants.Capabilities;
using AgentSecurity.Grants.Documents;
using AgentSecurity.Grants.Policy;

namespace AgentSecurity.Grants.Tests.Policy;

/// <summary>A delegated grant may narrow every dimension of its parent and widen none (one test per dimension).</summary>
public sealed class AttenuationTests
{
    private static readonly DateTimeOffset Start = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    private static readonly GrantTerms Parent = new(
        new CapabilitySet(AccessLevel.Write, NetworkAccess.Outbound, AccessLevel.Write, Subprocess: false, VectorDb: false, Llm: true),
        new GrantScopes(["/workspace/**"], ["*.example.com:443"], ["notes/**"]),
        ResourceLimits.None with { ChecksPerSecond = 100, LlmTokensPerHour = 10_000 },
        IsolationLevel.Native,
        Start,
        Start.AddDays(1));

    /// <summary>The platform's defaults and maximums as a silo configures them by default.</summary>
    private static readonly PlatformLimits Platform = new(
        ResourceLimits.None with { MaxMemoryBytes = 64 << 20, MaxCpuMillis = 2_000, MaxWallMillis = 5_000, MaxOutputBytes = 64 << 10, MaxConcurrentExecutions = 2, MemoryBytesStored = 1 << 20 },
        ResourceLimits.None with { MaxMemoryBytes = 512 << 20, MaxCpuMillis = 60_000, MaxWallMillis = 120_000, MaxOutputBytes = 1 << 20, MaxConcurrentExecutions = 16, MemoryBytesStored = 1 << 20 });

    private static void AssertEscalation(GrantTerms child, string dimension)
    {
        var failure = Attenuation.WithinParent(Parent, child, Platform);
        Assert.NotNull(failure);
        Assert.Equal(ReasonCodes.Escalation, failure.Code);
        Assert.Contains(dimension, failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void WithinParent_Identical_IsWithin() => Assert.Null(Attenuation.WithinParent(Parent, Parent, Platform));

    [Fact]
    public void WithinParent_NarrowerInEveryDimension_IsWithin()
    {
        var child = new GrantTerms(
            CapabilitySet.Nothing with { FileSystem = AccessLevel.Read },
            new GrantScopes(["/workspace/reports/*.md"], ["api.example.com:443"], ["notes/today"]),
            ResourceLimits.None with { ChecksPerSecond = 10, LlmTokensPerHour = 1, MaxMemoryBytes = 1 },
            IsolationLevel.Sandboxed,
            Start.AddHours(1),
            Start.AddHours(2));

        Assert.Null(Attenuation.WithinParent(Parent, child, Platform));
    }

    /// <summary>
    /// An internal destination (this machine, private networks, metadata services) is allowed only by a network scope that
    /// names it, so a parent reaches one only that way: a parent without network scopes means the internet, and a wildcard
    /// (<c>*.0.0.1:*</c>) that matches an address's text does not reach it. A child that names one is wider, and allowed
    /// what its parent is refused (found by a red-team review: the delegation check and the decision disagreed).
    /// </summary>
    [Theory]
    [InlineData(null, "169.254.169.254:80", "169.254.169.254:80")]
    [InlineData(null, "127.0.0.1:*", "127.0.0.1:6379")]
    [InlineData(null, "localhost:8080", "localhost:8080")]
    [InlineData("*.0.0.1:*", "127.0.0.1:*", "127.0.0.1:22")]
    [InlineData("*.localhost:*", "db.localhost:5432", "db.localhost:5432")]
    [InlineData("*.168.1.1:443", "192.168.1.1:443", "192.168.1.1:443")]
    public void WithinParent_ChildNamesAnInternalAddressTheParentDoesNotName_IsEscalationAndTheParentIsRefusedIt(string? parentScope, string childScope, string resource)
    {
        var parent = NetworkOnly(parentScope is null ? null : [parentScope]);
        var child = NetworkOnly([childScope]);
        var now = Start.AddHours(1);

        var failure = Attenuation.WithinParent(parent, child, Platform);

        Assert.Equal(ReasonCodes.InternalAddress, new GrantPolicy(parent, TimeSpan.FromSeconds(60)).Decide("network:outbound", resource, now).Reason);
        Assert.True(new GrantPolicy(child, TimeSpan.FromSeconds(60)).Decide("network:outbound", resource, now).Allowed);
        Assert.NotNull(failure);
        Assert.Equal(ReasonCodes.Escalation, failure.Code);
        Assert.Contains($"\"{childScope}\" names an internal address", failure.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("127.0.0.1:*", "127.0.0.1:6379")]
    [InlineData("127.0.0.1:6379", "127.0.0.1:6379")]
    [InlineData("localhost:*", "localhost:8080")]
    [InlineData("*.0.0.1:*", "*.0.0.1:80")] // a wildcard child reaches no internal address either
    [InlineData(null, "*.localhost:*")]
    [InlineData(null, "api.example.com:443")]
    public void WithinParent_ChildReachesOnlyWhatTheParentReaches_IsWithin(string? parentScope, string childScope) =>
        Assert.Null(Attenuation.WithinParent(NetworkOnly(parentScope is null ? null : [parentScope]), NetworkOnly([childScope]), Platform));

    [Fact]
    public void WithinParent_ChildNamesAnInternalAddressOnAnotherPort_IsEscalation() =>
        Assert.NotNull(Attenuation.WithinParent(NetworkOnly(["127.0.0.1:8080"]), NetworkOnly(["127.0.0.1:*"]), Platform));

    private static GrantTerms NetworkOnly(IReadOnlyList<string>? scopes) => new(
        CapabilitySet.Nothing with { Network = NetworkAccess.Outbound },
        new GrantScopes(null, scopes, null),
        ResourceLimits.None,
        IsolationLevel.Sandboxed,
        Start,
        Start.AddDays(1));

    [Fact]
    public void WithinParent_FileSystemLevelAbove_IsEscalation() =>
        AssertEscalation(Parent with { Capabilities = Parent.Capabilities with { FileSystem = AccessLevel.Full } }, "fileSystem");

    [Fact]
    public void WithinParent_NetworkInboundAdded_IsEscalation() =>
        AssertEscalation(Parent with { Capabilities = Parent.Capabilities with { Network = NetworkAccess.Full } }, "network");

    [Fact]
    public void WithinParent_NetworkSwappedForInbound_IsEscalation() =>
        AssertEscalation(Parent with { Capabilities = Parent.Capabilities with { Network = NetworkAccess.Inbound } }, "network");

    [Fact]
    public void WithinParent_MemoryLevelAbove_IsEscalation() =>
        AssertEscalation(Parent with { Capabilities = Parent.Capabilities with { Memory = AccessLevel.Full } }, "memory");

    [Fact]
    public void WithinParent_SubprocessTrue_IsEscalation() =>
        AssertEscalation(Parent with { Capabilities = Parent.Capabilities with { Subprocess = true } }, "subprocess");

    [Fact]
    public void WithinParent_VectorDbTrue_IsEscalation() =>
        AssertEscalation(Parent with { Capabilities = Parent.Capabilities with { VectorDb = true } }, "vectorDb");

    [Fact]
    public void WithinParent_LlmTrueUnderParentWithoutLlm_IsEscalation()
    {
        var parent = Parent with { Capabilities = Parent.Capabilities with { Llm = false } };

        Assert.Equal(ReasonCodes.Escalation, Attenuation.WithinParent(parent, Parent, Platform)?.Code);
    }

    [Theory]
    [InlineData("/**")]
    [InlineData("/workspace2/**")]
    [InlineData("/work*/**")]
    [InlineData("/*/x")]
    public void WithinParent_FileSystemScopeWider_IsEscalation(string pattern) =>
        AssertEscalation(Parent with { Scopes = Parent.Scopes with { FileSystem = [pattern] } }, "scopes.fileSystem");

    [Fact]
    public void WithinParent_FileSystemScopeDropped_IsEscalation() =>
        AssertEscalation(Parent with { Scopes = Parent.Scopes with { FileSystem = null } }, "scopes.fileSystem");

    [Theory]
    [InlineData("evil.com:443")]
    [InlineData("*.example.com:*")]
    [InlineData("api.example.com:80")]
    [InlineData("a.b.example.com:443")]
    public void WithinParent_NetworkScopeWider_IsEscalation(string pattern) =>
        AssertEscalation(Parent with { Scopes = Parent.Scopes with { Network = [pattern] } }, "scopes.network");

    [Fact]
    public void WithinParent_MemoryScopeWider_IsEscalation() =>
        AssertEscalation(Parent with { Scopes = Parent.Scopes with { Memory = ["secrets/**"] } }, "scopes.memory");

    [Fact]
    public void WithinParent_LimitAbove_IsEscalation() =>
        AssertEscalation(Parent with { Limits = Parent.Limits with { ChecksPerSecond = 101 } }, "checksPerSecond");

    [Fact]
    public void WithinParent_LimitDropped_IsEscalation() =>
        AssertEscalation(Parent with { Limits = Parent.Limits with { LlmTokensPerHour = null } }, "llmTokensPerHour");

    [Fact]
    public void WithinParent_ExpiresAfterParent_IsEscalation() =>
        AssertEscalation(Parent with { ExpiresAt = Parent.ExpiresAt.AddSeconds(1) }, "expiresAt");

    [Fact]
    public void WithinParent_StartsBeforeParent_IsEscalation() =>
        AssertEscalation(Parent with { NotBefore = Parent.NotBefore.AddSeconds(-1) }, "notBefore");

    [Fact]
    public void WithinParent_LooserIsolation_IsEscalation() =>
        AssertEscalation(Parent with { Isolation = IsolationLevel.External }, "environmentIsolation");

    [Theory]
    [InlineData(IsolationLevel.Native)]
    [InlineData(IsolationLevel.Sandboxed)]
    public void WithinParent_ExternalParentDelegatingCodeInTheCluster_IsEscalation(IsolationLevel child)
    {
        var parent = Parent with { Isolation = IsolationLevel.External };

        var failure = Attenuation.WithinParent(parent, parent with { Isolation = child }, Platform);

        Assert.Equal(ReasonCodes.Escalation, failure?.Code);
        Assert.Contains("runs code in the cluster", failure!.Message, StringComparison.Ordinal);
        Assert.Null(Attenuation.WithinParent(parent, parent, Platform));
    }

    [Fact]
    public void WithinParent_StricterIsolationInTheCluster_IsWithin() =>
        Assert.Null(Attenuation.WithinParent(Parent, Parent with { Isolation = IsolationLevel.Sandboxed }, Platform));

    [Fact]
    public void WithinCeiling_AboveCeiling_IsEscalationWithinIsNot()
    {
        var ceiling = CapabilitySet.Nothing with { FileSystem = AccessLevel.Read, Llm = true };
        var limits = ResourceLimits.None with { ChecksPerSecond = 50 };
        var within = Parent with { Capabilities = ceiling, Limits = limits };

        Assert.Null(Attenuation.WithinCeiling(ceiling, limits, within, Platform));
        Assert.Equal(ReasonCodes.Escalation, Attenuation.WithinCeiling(ceiling, limits, within with { Capabilities = ceiling with { FileSystem = AccessLevel.Write } }, Platform)?.Code);
        Assert.Equal(ReasonCodes.Escalation, Attenuation.WithinCeiling(ceiling, limits, within with { Limits = ResourceLimits.None }, Platform)?.Code);
    }

    public static TheoryData<string, long> AboveThePlatformDefault => new()
    {
        { "maxCpuMillis", 60_000 },
        { "maxWallMillis", 120_000 },
        { "maxConcurrentExecutions", 16 },
        { "maxMemoryBytes", 512L << 20 },
        { "maxOutputBytes", 1 << 20 },
    };

    /// <summary>The parent leaves the limit to the platform, so it runs under the default; the child may not ask for more.</summary>
    [Theory]
    [MemberData(nameof(AboveThePlatformDefault))]
    public void WithinParent_ExecutionLimitAboveTheDefaultTheParentRunsUnder_IsEscalation(string limit, long value)
    {
        var failure = Attenuation.WithinParent(Parent, Parent with { Limits = Parent.Limits.With(limit, value) }, Platform);

        Assert.Equal(ReasonCodes.Escalation, failure?.Code);
        Assert.Contains($"resourceLimits.{limit} {value} is above", failure!.Message, StringComparison.Ordinal);
        Assert.Contains("the platform's default", failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void WithinParent_ExecutionLimitAtOrBelowTheDefaultTheParentRunsUnder_IsWithin()
    {
        Assert.Null(Attenuation.WithinParent(Parent, Parent with { Limits = Parent.Limits with { MaxCpuMillis = 2_000, MaxConcurrentExecutions = 1 } }, Platform));
    }

    [Fact]
    public void WithinParent_ChildLeavesOutALimitTheParentSetsAboveTheDefault_IsWithin()
    {
        var parent = Parent with { Limits = Parent.Limits with { MaxCpuMillis = 10_000 } };

        Assert.Null(Attenuation.WithinParent(parent, Parent, Platform)); // the child runs under the default, 2 s
    }

    [Fact]
    public void WithinParent_ChildLeavesOutALimitTheParentSetsBelowTheDefault_IsEscalation()
    {
        var parent = Parent with { Limits = Parent.Limits with { MaxCpuMillis = 500 } };

        var failure = Attenuation.WithinParent(parent, Parent, Platform);

        Assert.Equal(ReasonCodes.Escalation, failure?.Code);
        Assert.Contains("resourceLimits.maxCpuMillis is absent (the platform's default, 2000), above the parent's 500", failure!.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void WithinParent_LimitsAboveThePlatformMaximumOnBothSides_CompareAsApplied()
    {
        var parent = Parent with { Limits = Parent.Limits with { MaxCpuMillis = 1_000_000 } };

        Assert.Null(Attenuation.WithinParent(parent, parent with { Limits = parent.Limits with { MaxCpuMillis = 2_000_000 } }, Platform)); // both get 60 s
        Assert.Null(Attenuation.WithinParent(Parent, Parent with { Limits = Parent.Limits with { MemoryBytesStored = 1L << 40 } }, Platform)); // both get 1 MiB
    }

    [Fact]
    public void WithinParent_RateTheParentLeavesUnlimited_AnyChildValueIsWithin()
    {
        Assert.Null(Attenuation.WithinParent(Parent, Parent with { Limits = Parent.Limits with { NetworkRequestsPerMinute = 1_000_000 } }, Platform));
    }

    [Fact]
    public void WithinCeiling_ExecutionLimitTheCeilingLeavesToThePlatform_IsBoundByTheDefault()
    {
        var ceiling = CapabilitySet.Nothing with { Llm = true };
        var grant = Parent with { Capabilities = ceiling, Limits = ResourceLimits.None };

        Assert.Null(Attenuation.WithinCeiling(ceiling, ResourceLimits.None, grant with { Limits = ResourceLimits.None with { MaxCpuMillis = 1_000 } }, Platform));
        Assert.Equal(ReasonCodes.Escalation, Attenuation.WithinCeiling(ceiling, ResourceLimits.None, grant with { Limits = ResourceLimits.None with { MaxCpuMillis = 60_000 } }, Platform)?.Code);
        Assert.Equal(ReasonCodes.Escalation, Attenuation.WithinCeiling(ceiling, ResourceLimits.None with { MaxWallMillis = 1_000 }, grant, Platform)?.Code);
    }
}

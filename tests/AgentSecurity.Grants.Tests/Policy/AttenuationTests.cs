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

    private static void AssertEscalation(GrantTerms child, string dimension)
    {
        var failure = Attenuation.WithinParent(Parent, child);
        Assert.NotNull(failure);
        Assert.Equal(ReasonCodes.Escalation, failure.Code);
        Assert.Contains(dimension, failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void WithinParent_Identical_IsWithin() => Assert.Null(Attenuation.WithinParent(Parent, Parent));

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

        Assert.Null(Attenuation.WithinParent(Parent, child));
    }

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

        Assert.Equal(ReasonCodes.Escalation, Attenuation.WithinParent(parent, Parent)?.Code);
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

        var failure = Attenuation.WithinParent(parent, parent with { Isolation = child });

        Assert.Equal(ReasonCodes.Escalation, failure?.Code);
        Assert.Contains("runs code in the cluster", failure!.Message, StringComparison.Ordinal);
        Assert.Null(Attenuation.WithinParent(parent, parent));
    }

    [Fact]
    public void WithinParent_StricterIsolationInTheCluster_IsWithin() =>
        Assert.Null(Attenuation.WithinParent(Parent, Parent with { Isolation = IsolationLevel.Sandboxed }));

    [Fact]
    public void WithinCeiling_AboveCeiling_IsEscalationWithinIsNot()
    {
        var ceiling = CapabilitySet.Nothing with { FileSystem = AccessLevel.Read, Llm = true };
        var limits = ResourceLimits.None with { ChecksPerSecond = 50 };
        var within = Parent with { Capabilities = ceiling, Limits = limits };

        Assert.Null(Attenuation.WithinCeiling(ceiling, limits, within));
        Assert.Equal(ReasonCodes.Escalation, Attenuation.WithinCeiling(ceiling, limits, within with { Capabilities = ceiling with { FileSystem = AccessLevel.Write } })?.Code);
        Assert.Equal(ReasonCodes.Escalation, Attenuation.WithinCeiling(ceiling, limits, within with { Limits = ResourceLimits.None })?.Code);
    }
}

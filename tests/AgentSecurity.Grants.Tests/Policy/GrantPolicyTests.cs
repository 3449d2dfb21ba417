using AgentSecurity.Grants.Capabilities;
using AgentSecurity.Grants.Policy;

namespace AgentSecurity.Grants.Tests.Policy;

public sealed class GrantPolicyTests
{
    private static readonly DateTimeOffset Start = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
    private static readonly DateTimeOffset End = Start.AddHours(1);
    private static readonly DateTimeOffset During = Start.AddMinutes(30);

    private static GrantPolicy Policy(CapabilitySet capabilities, GrantScopes? scopes = null) =>
        new(new Grants.Documents.GrantTerms(capabilities, scopes ?? GrantScopes.None, ResourceLimits.None, IsolationLevel.Sandboxed, Start, End), TimeSpan.FromSeconds(60));

    private static readonly CapabilitySet Everything =
        new(AccessLevel.Full, NetworkAccess.Full, AccessLevel.Full, true, true, true);

    [Theory]
    [InlineData(AccessLevel.None, "fileSystem:read", false)]
    [InlineData(AccessLevel.Read, "fileSystem:read", true)]
    [InlineData(AccessLevel.Read, "fileSystem:write", false)]
    [InlineData(AccessLevel.Write, "fileSystem:write", true)]
    [InlineData(AccessLevel.Write, "fileSystem:read", true)]
    [InlineData(AccessLevel.Write, "fileSystem:delete", false)]
    [InlineData(AccessLevel.Full, "fileSystem:delete", true)]
    public void Decide_FileSystemLevel_AllowsExactlyWhatTheLevelIncludes(AccessLevel level, string capability, bool allowed)
    {
        var policy = Policy(CapabilitySet.Nothing with { FileSystem = level });

        var decision = policy.Decide(capability, "/workspace/a.txt", During);

        Assert.Equal(allowed, decision.Allowed);
        Assert.Equal(allowed ? ReasonCodes.Allowed : ReasonCodes.CapabilityNotGranted, decision.Reason);
    }

    [Theory]
    [InlineData(AccessLevel.Read, "memory:read", true)]
    [InlineData(AccessLevel.Read, "memory:write", false)]
    [InlineData(AccessLevel.Write, "memory:read", true)]
    [InlineData(AccessLevel.Write, "memory:delete", false)]
    [InlineData(AccessLevel.Full, "memory:delete", true)]
    public void Decide_MemoryLevel_WriteImpliesReadDeleteNeedsFull(AccessLevel level, string capability, bool allowed)
    {
        var decision = Policy(CapabilitySet.Nothing with { Memory = level }).Decide(capability, "notes/a", During);

        Assert.Equal(allowed, decision.Allowed);
    }

    [Theory]
    [InlineData(NetworkAccess.None, "network:outbound", false)]
    [InlineData(NetworkAccess.Outbound, "network:outbound", true)]
    [InlineData(NetworkAccess.Outbound, "network:inbound", false)]
    [InlineData(NetworkAccess.Inbound, "network:inbound", true)]
    [InlineData(NetworkAccess.Inbound, "network:outbound", false)]
    [InlineData(NetworkAccess.Full, "network:inbound", true)]
    [InlineData(NetworkAccess.Full, "network:outbound", true)]
    public void Decide_NetworkLevel_InboundAndOutboundAreSeparate(NetworkAccess level, string capability, bool allowed)
    {
        var decision = Policy(CapabilitySet.Nothing with { Network = level }).Decide(capability, "api.example.com:443", During);

        Assert.Equal(allowed, decision.Allowed);
    }

    [Theory]
    [InlineData("subprocess")]
    [InlineData("vectorDb")]
    [InlineData("llm")]
    public void Decide_Booleans_DenyWhenFalseAllowWhenTrue(string capability)
    {
        Assert.Equal(ReasonCodes.CapabilityNotGranted, Policy(CapabilitySet.Nothing).Decide(capability, null, During).Reason);
        Assert.True(Policy(Everything).Decide(capability, null, During).Allowed);
    }

    [Theory]
    [InlineData("fileSystem")]
    [InlineData("fileSystem:READ")]
    [InlineData("FileSystem:read")]
    [InlineData("fileSystem:execute")]
    [InlineData("network")]
    [InlineData("LLM")]
    [InlineData("")]
    [InlineData("admin")]
    public void Decide_UnknownCapability_IsUnknownCapability(string capability)
    {
        var decision = Policy(Everything).Decide(capability, null, During);

        Assert.False(decision.Allowed);
        Assert.Equal(ReasonCodes.UnknownCapability, decision.Reason);
    }

    [Fact]
    public void Decide_BeforeNotBeforeBeyondSkew_IsNotYetValid()
    {
        var policy = Policy(Everything);

        Assert.Equal(ReasonCodes.NotYetValid, policy.Decide("llm", null, Start.AddSeconds(-61)).Reason);
        Assert.True(policy.Decide("llm", null, Start.AddSeconds(-60)).Allowed);
    }

    [Fact]
    public void Decide_AtOrAfterExpiry_IsExpiredWithNoSkew()
    {
        var policy = Policy(Everything);

        Assert.True(policy.Decide("llm", null, End.AddTicks(-1)).Allowed);
        Assert.Equal(ReasonCodes.Expired, policy.Decide("llm", null, End).Reason);
        Assert.Equal(ReasonCodes.Expired, policy.Decide("llm", null, End.AddSeconds(30)).Reason);
    }

    [Theory]
    [InlineData("/workspace/out.txt", true)]
    [InlineData("/workspace/deep/er/out.txt", true)]
    [InlineData("/workspace", false)]
    [InlineData("/workspaces/out.txt", false)]
    [InlineData("/etc/passwd", false)]
    [InlineData("/tmp/x.log", true)]
    [InlineData("/tmp/sub/x.log", false)]
    [InlineData("/tmp/x.txt", false)]
    [InlineData("/WORKSPACE/out.txt", false)]
    public void Decide_FileSystemScopes_AllowOnlyMatchingPaths(string path, bool allowed)
    {
        var policy = Policy(Everything, new GrantScopes(["/workspace/**", "/tmp/*.log"], null, null));

        var decision = policy.Decide("fileSystem:write", path, During);

        Assert.Equal(allowed, decision.Allowed);
        Assert.Equal(allowed ? ReasonCodes.Allowed : ReasonCodes.OutOfScope, decision.Reason);
    }

    [Theory]
    [InlineData("/workspace/../etc/passwd")]
    [InlineData("/workspace/./out.txt")]
    [InlineData("/workspace//out.txt")]
    [InlineData("/workspace/%2e%2e/etc/passwd")]
    [InlineData("/workspace/out.txt\0.png")]
    [InlineData("/workspace/out.txt/")]
    [InlineData("/workspace\\..\\etc")]
    [InlineData("/workspace/**")]
    [InlineData("/workspace/*.txt")]
    [InlineData("workspace/out.txt")]
    [InlineData("")]
    public void Decide_PathNotInNormalForm_IsInvalidResourceEvenWithoutScopes(string path)
    {
        foreach (var scopes in new[] { GrantScopes.None, new GrantScopes(["/**"], null, null) })
        {
            var decision = Policy(Everything, scopes).Decide("fileSystem:read", path, During);

            Assert.False(decision.Allowed);
            Assert.Equal(ReasonCodes.InvalidResource, decision.Reason);
        }
    }

    [Fact]
    public void Decide_ScopedCapabilityWithoutResource_IsOutOfScope()
    {
        var policy = Policy(Everything, new GrantScopes(["/workspace/**"], ["api.example.com:443"], ["notes/**"]));

        Assert.Equal(ReasonCodes.OutOfScope, policy.Decide("fileSystem:read", null, During).Reason);
        Assert.Equal(ReasonCodes.OutOfScope, policy.Decide("network:outbound", null, During).Reason);
        Assert.Equal(ReasonCodes.OutOfScope, policy.Decide("memory:read", null, During).Reason);
    }

    [Fact]
    public void Decide_EmptyScopeList_AllowsNothing()
    {
        var policy = Policy(Everything, new GrantScopes([], null, null));

        Assert.Equal(ReasonCodes.OutOfScope, policy.Decide("fileSystem:read", "/a", During).Reason);
        Assert.True(policy.Decide("memory:read", "a", During).Allowed);
    }

    [Theory]
    [InlineData("api.example.com:443", true)]
    [InlineData("API.Example.COM:443", true)]
    [InlineData("a.b.example.com:443", false)]
    [InlineData("example.com:443", false)]
    [InlineData("api.example.com:80", false)]
    [InlineData("evilexample.com:443", false)]
    [InlineData("api.example.com.evil.net:443", false)]
    [InlineData("internal.corp:8080", true)]
    [InlineData("internal.corp:1", true)]
    [InlineData("other.corp:8080", false)]
    public void Decide_NetworkScopes_MatchHostsAndPorts(string resource, bool allowed)
    {
        var policy = Policy(Everything, new GrantScopes(null, ["*.example.com:443", "internal.corp:*"], null));

        Assert.Equal(allowed, policy.Decide("network:outbound", resource, During).Allowed);
    }

    [Theory]
    [InlineData("api.example.com")]
    [InlineData("api.example.com:0")]
    [InlineData("api.example.com:65536")]
    [InlineData("api.example.com:0443")]
    [InlineData("api.example.com.:443")]
    [InlineData("api..example.com:443")]
    [InlineData("api.exa%6dple.com:443")]
    [InlineData("user@api.example.com:443")]
    [InlineData("ápi.example.com:443")]
    [InlineData("\u212Aey.example.com:443")] // KELVIN SIGN, which lowercases to 'k'
    [InlineData("\u0130nternal.example.com:443")]
    public void Decide_HostNotInNormalForm_IsInvalidResource(string resource)
    {
        var policy = Policy(Everything, new GrantScopes(null, ["*.example.com:*"], null));

        Assert.Equal(ReasonCodes.InvalidResource, policy.Decide("network:outbound", resource, During).Reason);
    }

    [Theory]
    [InlineData("notes/today", true)]
    [InlineData("notes/2026/01/01", true)]
    [InlineData("cache/today", true)]
    [InlineData("cache/a/b", false)]
    [InlineData("secrets/key", false)]
    [InlineData("Notes/today", false)]
    public void Decide_MemoryScopes_MatchKeys(string key, bool allowed)
    {
        var policy = Policy(Everything, new GrantScopes(null, null, ["notes/**", "cache/*"]));

        Assert.Equal(allowed, policy.Decide("memory:write", key, During).Allowed);
    }

    [Theory]
    [InlineData("../other-agent/notes")]
    [InlineData("notes/../../x")]
    [InlineData("%2e%2e/x")]
    [InlineData("/notes")]
    [InlineData("notes/")]
    [InlineData("notes\0")]
    public void Decide_MemoryKeyTricks_AreInvalidResource(string key)
    {
        Assert.Equal(ReasonCodes.InvalidResource, Policy(Everything).Decide("memory:read", key, During).Reason);
    }

    [Fact]
    public void Decide_UnscopedLevel_AllowsAnyNormalResource()
    {
        var policy = Policy(Everything);

        Assert.True(policy.Decide("fileSystem:read", "/etc/hostname", During).Allowed);
        Assert.True(policy.Decide("network:outbound", "anything.net:8443", During).Allowed);
    }

    [Theory]
    [InlineData("127.0.0.1:8080")]
    [InlineData("10.0.0.5:443")]
    [InlineData("169.254.169.254:80")]
    [InlineData("[::1]:80")]
    [InlineData("[::ffff:127.0.0.1]:80")]
    [InlineData("[fd00::1]:443")]
    [InlineData("localhost:8080")]
    [InlineData("metrics.localhost:8080")]
    [InlineData("LOCALHOST:8080")]            // the host decides as parsed once: lower case
    [InlineData("Metrics.LocalHost:8080")]
    [InlineData("[::FFFF:127.0.0.1]:80")]
    public void Decide_InternalDestinationUnderAnUnscopedNetworkLevel_IsInternalAddress(string resource)
    {
        var decision = Policy(Everything).Decide("network:outbound", resource, During);

        Assert.False(decision.Allowed);
        Assert.Equal(ReasonCodes.InternalAddress, decision.Reason);
        Assert.Equal(DecisionRule.Scope, decision.Rule);
    }

    [Theory]
    [InlineData("*.0.0.1:8080")]
    [InlineData("*.0.1:*")]
    [InlineData("127.0.0.1:80")]
    [InlineData("*.localhost:8080")]
    public void Decide_InternalDestinationMatchedOnlyByAWildcardOrAnotherPort_IsInternalAddress(string pattern)
    {
        var policy = Policy(Everything, new GrantScopes(null, [pattern, "api.example.com:443"], null));

        Assert.Equal(ReasonCodes.InternalAddress, policy.Decide("network:outbound", "127.0.0.1:8080", During).Reason);
        Assert.Equal(ReasonCodes.InternalAddress, policy.Decide("network:outbound", "metrics.localhost:8080", During).Reason);
    }

    [Theory]
    [InlineData("127.0.0.1:8080", "127.0.0.1:8080")]
    [InlineData("127.0.0.1:*", "127.0.0.1:8080")]
    [InlineData("[::1]:*", "[::1]:8080")]
    [InlineData("localhost:8080", "localhost:8080")]
    [InlineData("169.254.169.254:80", "169.254.169.254:80")]
    public void Decide_InternalDestinationNamedLiterally_IsAllowedByThatPattern(string pattern, string resource)
    {
        var decision = Policy(Everything, new GrantScopes(null, ["*.example.com:443", pattern], null)).Decide("network:outbound", resource, During);

        Assert.True(decision.Allowed, decision.Message);
        Assert.Equal(pattern, decision.MatchedPattern);
    }

    [Theory]
    [InlineData("2130706433:80")]
    [InlineData("0x7f.0.0.1:80")]
    [InlineData("0X7F.0.0.1:80")]
    [InlineData("127.1:80")]
    [InlineData("0177.0.0.1:80")]
    [InlineData("[0:0::1]:80")]
    [InlineData("[127.0.0.1]:80")]
    [InlineData("[abc]:80")]
    public void Decide_AddressInAnotherSpelling_IsInvalidResource(string resource)
    {
        Assert.Equal(ReasonCodes.InvalidResource, Policy(Everything).Decide("network:outbound", resource, During).Reason);
    }

    [Fact]
    public void Decide_PublicAddressUnderAnUnscopedNetworkLevel_IsAllowed()
    {
        Assert.True(Policy(Everything).Decide("network:outbound", "93.184.216.34:443", During).Allowed);
        Assert.True(Policy(Everything).Decide("network:outbound", "[2606:4700::1111]:443", During).Allowed);
    }
}

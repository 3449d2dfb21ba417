using AgentSecurity.Abstractions;
using AgentSecurity.Grains.Tests.Infrastructure;
using AgentSecurity.Grants;
using AgentSecurity.Grants.Policy;
using AgentSecurity.Testing;

namespace AgentSecurity.Grains.Tests;

/// <summary>
/// Each helper of <see cref="CheckRequests"/> builds a check the kernel decides as its grant says: allowed inside the
/// grant, denied outside it, through the agent grain (not by comparing strings with what the kernel might expect).
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class CheckRequestsTests(ClusterFixture fixture)
{
    private const string Agent = "bot";

    private DateTimeOffset Now => fixture.Now;

    /// <summary>A tenant whose agent holds the standard grant with these capabilities, scopes and limits.</summary>
    private async Task<string> AgentAsync(string? capabilities = null, string? scopes = null, string? limits = null)
    {
        var tenant = await fixture.NewTenantAsync();
        var grant = TestDocuments.Grant(tenant, Agent, Now);
        if (capabilities is not null)
        {
            grant.SetJson("capabilities", capabilities);
        }

        if (scopes is not null)
        {
            grant.SetJson("scopes", scopes);
        }

        if (limits is not null)
        {
            grant.SetJson("resourceLimits", limits);
        }

        await fixture.ApplyAsync(grant.SignWith(TestKeys.Root));
        return tenant;
    }

    private Task<Decision> CheckAsync(string tenant, CheckRequest request) => fixture.Client.CheckAsync(tenant, Agent, request);

    private async Task AllowedAsync(string tenant, CheckRequest request)
    {
        var decision = await CheckAsync(tenant, request);
        Assert.True(decision.Allowed, $"{request.Capability} {request.Resource}: {decision.Reason} {decision.Message}");
    }

    private async Task DeniedAsync(string tenant, CheckRequest request, string reason)
    {
        var decision = await CheckAsync(tenant, request);
        Assert.False(decision.Allowed, $"{request.Capability} {request.Resource} was allowed");
        Assert.Equal(reason, decision.Reason);
    }

    [Fact]
    public void All_IsEveryCapabilityTheKernelKnows()
    {
        Assert.Equal(CheckKinds.Names.Order(StringComparer.Ordinal), Capabilities.All.Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task Fetch_UrlWithoutPort_TakesTheSchemesPortAndMatchesTheNetworkScope()
    {
        var tenant = await AgentAsync(scopes: """{"network":["*.example.com:443","api.partner.test:8080"]}""");

        await AllowedAsync(tenant, CheckRequests.Fetch("https://api.example.com/v1/items?q=1"));
        await AllowedAsync(tenant, CheckRequests.Fetch(new Uri("https://API.Example.COM/")));
        await AllowedAsync(tenant, CheckRequests.Fetch("wss://events.example.com/stream"));
        await AllowedAsync(tenant, CheckRequests.Fetch("http://api.partner.test:8080/x"));
        await DeniedAsync(tenant, CheckRequests.Fetch("http://api.example.com/"), ReasonCodes.OutOfScope);
        await DeniedAsync(tenant, CheckRequests.Fetch("https://api.partner.test/x"), ReasonCodes.OutOfScope);
        await DeniedAsync(tenant, CheckRequests.Fetch("https://example.org/"), ReasonCodes.OutOfScope);
    }

    [Fact]
    public async Task Fetch_InternationalName_IsCheckedInItsAsciiForm()
    {
        var tenant = await AgentAsync(scopes: """{"network":["xn--bcher-kva.example.com:443"]}""");

        await AllowedAsync(tenant, CheckRequests.Fetch("https://bücher.example.com/"));
        await DeniedAsync(tenant, CheckRequests.Fetch("https://bucher.example.com/"), ReasonCodes.OutOfScope);
    }

    [Fact]
    public async Task Fetch_IpAddresses_AreCheckedInTheirCanonicalForm()
    {
        var tenant = await AgentAsync(scopes: """{"network":["127.0.0.1:9000","[::1]:8080"]}""");

        await AllowedAsync(tenant, CheckRequests.Fetch("http://127.0.0.1:9000/"));
        await AllowedAsync(tenant, CheckRequests.Fetch("http://0x7f.1:9000/"));
        await AllowedAsync(tenant, CheckRequests.Fetch("http://[0:0::1]:8080/"));
        await DeniedAsync(tenant, CheckRequests.Fetch("http://[::1]:8081/"), ReasonCodes.InternalAddress);
        await DeniedAsync(tenant, CheckRequests.Fetch("http://127.0.0.1/"), ReasonCodes.InternalAddress);
    }

    [Fact]
    public async Task Fetch_GrantWithoutOutboundNetwork_IsDenied()
    {
        var tenant = await AgentAsync(capabilities: TestDocuments.ReadOnlyFiles);

        await DeniedAsync(tenant, CheckRequests.Fetch("https://api.example.com/"), ReasonCodes.CapabilityNotGranted);
    }

    [Fact]
    public async Task Connect_HostAndPort_MatchesTheNetworkScope()
    {
        var tenant = await AgentAsync(scopes: """{"network":["db.example.com:5432","[fd00::5]:5432"]}""");

        await AllowedAsync(tenant, CheckRequests.Connect("DB.example.com", 5432));
        await AllowedAsync(tenant, CheckRequests.Connect("fd00:0::5", 5432));
        await AllowedAsync(tenant, CheckRequests.Connect("[fd00::5]", 5432));
        await DeniedAsync(tenant, CheckRequests.Connect("db.example.com", 5433), ReasonCodes.OutOfScope);
    }

    [Fact]
    public async Task ReadFileWriteFileDeleteFile_MatchTheFileScopeAndLevel()
    {
        var tenant = await AgentAsync(); // write under /workspace/**

        await AllowedAsync(tenant, CheckRequests.ReadFile("/workspace/notes.txt"));
        await AllowedAsync(tenant, CheckRequests.WriteFile("/workspace/out/report.md", 1024));
        await DeniedAsync(tenant, CheckRequests.ReadFile("/etc/passwd"), ReasonCodes.OutOfScope);
        await DeniedAsync(tenant, CheckRequests.WriteFile("/etc/passwd"), ReasonCodes.OutOfScope);
        await DeniedAsync(tenant, CheckRequests.DeleteFile("/workspace/notes.txt"), ReasonCodes.CapabilityNotGranted);
        // Not repaired on the way: the kernel refuses the traversal and records it.
        await DeniedAsync(tenant, CheckRequests.ReadFile("/workspace/../etc/passwd"), ReasonCodes.InvalidResource);
    }

    [Fact]
    public async Task WriteFile_ReadOnlyGrant_IsDenied()
    {
        var tenant = await AgentAsync(capabilities: TestDocuments.ReadOnlyFiles);

        await AllowedAsync(tenant, CheckRequests.ReadFile("/workspace/notes.txt"));
        await DeniedAsync(tenant, CheckRequests.WriteFile("/workspace/notes.txt"), ReasonCodes.CapabilityNotGranted);
    }

    [Fact]
    public async Task WriteFile_Bytes_AreMeteredByTheWriteLimit()
    {
        var tenant = await AgentAsync(limits: """{"fileBytesWrittenPerHour":1000}""");

        await AllowedAsync(tenant, CheckRequests.WriteFile("/workspace/a.bin", 600));
        await DeniedAsync(tenant, CheckRequests.WriteFile("/workspace/b.bin", 600), ReasonCodes.QuotaExceeded);
    }

    [Fact]
    public async Task ReadMemoryWriteMemoryDeleteMemory_MatchTheMemoryScopeAndLevel()
    {
        var tenant = await AgentAsync(); // memory write under notes/**

        await AllowedAsync(tenant, CheckRequests.ReadMemory("notes/today"));
        await AllowedAsync(tenant, CheckRequests.WriteMemory("notes/today", 64));
        await DeniedAsync(tenant, CheckRequests.ReadMemory("secrets/key"), ReasonCodes.OutOfScope);
        await DeniedAsync(tenant, CheckRequests.WriteMemory("secrets/key"), ReasonCodes.OutOfScope);
        await DeniedAsync(tenant, CheckRequests.DeleteMemory("notes/today"), ReasonCodes.CapabilityNotGranted);
    }

    [Fact]
    public async Task Llm_Tokens_AreAllowedByTheGrantAndMeteredByTheTokenLimit()
    {
        var tenant = await AgentAsync(limits: """{"llmTokensPerHour":1000}""");

        await AllowedAsync(tenant, CheckRequests.Llm("gpt-4o-mini", 600));
        await DeniedAsync(tenant, CheckRequests.Llm("gpt-4o-mini", 600), ReasonCodes.QuotaExceeded);
        await AllowedAsync(tenant, CheckRequests.Llm("gpt-4o-mini", 400));
    }

    [Fact]
    public async Task Llm_GrantWithoutLlm_IsDenied()
    {
        var tenant = await AgentAsync(capabilities: TestDocuments.ReadOnlyFiles);

        await DeniedAsync(tenant, CheckRequests.Llm("gpt-4o-mini", 10), ReasonCodes.CapabilityNotGranted);
    }

    [Fact]
    public async Task SubprocessAndVectorDb_FollowTheGrantsFlags()
    {
        var without = await AgentAsync(); // the standard grant: neither
        await DeniedAsync(without, CheckRequests.Subprocess("python3"), ReasonCodes.CapabilityNotGranted);
        await DeniedAsync(without, CheckRequests.VectorDb("docs"), ReasonCodes.CapabilityNotGranted);

        var with = await AgentAsync(capabilities: TestDocuments.AllCapabilities);
        await AllowedAsync(with, CheckRequests.Subprocess("python3"));
        await AllowedAsync(with, CheckRequests.Subprocess());
        await AllowedAsync(with, CheckRequests.VectorDb("docs"));
    }

    [Theory]
    [InlineData("/api/items")] // relative
    [InlineData("api.example.com/items")] // no scheme
    [InlineData("")]
    public void Fetch_RelativeUrl_ThrowsArgumentExceptionSayingSo(string url)
    {
        var e = Assert.Throws<ArgumentException>(() => CheckRequests.Fetch(url));
        Assert.Contains("not an absolute URL", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Fetch_RelativeUri_ThrowsArgumentExceptionSayingSo()
    {
        var e = Assert.Throws<ArgumentException>(() => CheckRequests.Fetch(new Uri("items/1", UriKind.Relative)));
        Assert.Contains("not an absolute URL", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("file:///etc/passwd")]
    [InlineData("mailto:someone@example.com")]
    public void Fetch_UrlWithoutHost_ThrowsArgumentExceptionSayingSo(string url)
    {
        var e = Assert.Throws<ArgumentException>(() => CheckRequests.Fetch(url));
        Assert.Contains("names no host", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Fetch_SchemeWithoutDefaultPortAndNoPort_ThrowsArgumentExceptionSayingSo()
    {
        var e = Assert.Throws<ArgumentException>(() => CheckRequests.Fetch("redis://cache.example.com/0"));
        Assert.Contains("names no port", e.Message, StringComparison.Ordinal);
        Assert.Equal("cache.example.com:6379", CheckRequests.Fetch("redis://cache.example.com:6379/0").Resource);
    }

    [Fact]
    public void Fetch_Ipv6Zone_ThrowsArgumentExceptionSayingSo()
    {
        var e = Assert.Throws<ArgumentException>(() => CheckRequests.Fetch("http://[fe80::1%25eth0]:8080/"));
        Assert.Contains("zone", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("", 443)]
    [InlineData("host/path", 443)]
    [InlineData("user@host", 443)]
    [InlineData("host", 0)]
    [InlineData("host", 65536)]
    public void Connect_BadHostOrPort_ThrowsArgumentException(string host, int port)
    {
        Assert.ThrowsAny<ArgumentException>(() => CheckRequests.Connect(host, port));
    }

    [Fact]
    public void ReadFile_NullPath_ThrowsArgumentNullExceptionSayingWhatIsNeeded()
    {
        var e = Assert.Throws<ArgumentNullException>(() => CheckRequests.ReadFile(null!));
        Assert.Contains("absolute path", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("")]
    [InlineData("notes.txt")]
    [InlineData("workspace/notes.txt")]
    public void ReadFileWriteFileDeleteFile_EmptyOrRelativePath_ThrowArgumentException(string path)
    {
        foreach (var build in new Func<string, CheckRequest>[] { CheckRequests.ReadFile, p => CheckRequests.WriteFile(p), CheckRequests.DeleteFile })
        {
            var e = Assert.Throws<ArgumentException>(() => build(path));
            Assert.Contains("absolute path", e.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Llm_NegativeTokens_ThrowsArgumentOutOfRangeException()
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => CheckRequests.Llm("gpt-4o-mini", -1));
        Assert.Contains("at least 0", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void WriteFileWriteMemory_NegativeBytes_ThrowArgumentOutOfRangeException()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => CheckRequests.WriteFile("/workspace/a", -1));
        Assert.Throws<ArgumentOutOfRangeException>(() => CheckRequests.WriteMemory("notes/a", -1));
    }

    [Theory]
    [InlineData("")]
    [InlineData(" ")]
    public void ReadMemory_EmptyKey_ThrowsArgumentException(string key)
    {
        var e = Assert.Throws<ArgumentException>(() => CheckRequests.ReadMemory(key));
        Assert.Contains("needs a key", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Llm_EmptyModel_ThrowsArgumentException()
    {
        Assert.ThrowsAny<ArgumentException>(() => CheckRequests.Llm(" ", 10));
    }
}

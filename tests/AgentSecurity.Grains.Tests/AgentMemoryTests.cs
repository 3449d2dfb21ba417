using System.Text;
using AgentSecurity.Grains.Tests.Infrastructure;
using AgentSecurity.Grants;
using AgentSecurity.Testing;

namespace AgentSecurity.Grains.Tests;

/// <summary>An agent's own memory: checked like any action, counted, and unreachable from every other agent.</summary>
[Collection(ClusterCollection.Name)]
public sealed class AgentMemoryTests(ClusterFixture fixture)
{
    private const string FullMemory = """{"fileSystem":"none","network":"none","memory":"full","subprocess":false,"vectorDb":false,"llm":false}""";

    private DateTimeOffset Now => fixture.Now;

    private static byte[] Bytes(string text) => Encoding.UTF8.GetBytes(text);

    private async Task<string> AgentAsync(string capabilities = FullMemory, string scopes = """{"memory":["notes/**"]}""", string limits = "{}", string? tenant = null, string agent = "bot")
    {
        tenant ??= await fixture.NewTenantAsync();
        await fixture.ApplyAsync(TestDocuments.Grant(tenant, agent, Now, $"g-{agent}").SetJson("capabilities", capabilities).SetJson("scopes", scopes).SetJson("resourceLimits", limits).SignWith(TestKeys.Root));
        return tenant;
    }

    [Fact]
    public async Task Memory_PutGetListDelete_RoundTrip()
    {
        var tenant = await AgentAsync();
        var bot = fixture.Client.Agent(tenant, "bot");

        var put = await bot.PutMemoryAsync("notes/today", Bytes("hello"));
        var get = await bot.GetMemoryAsync("notes/today");
        var list = await bot.ListMemoryAsync("notes");
        var deleted = await bot.DeleteMemoryAsync("notes/today");
        var gone = await bot.GetMemoryAsync("notes/today");

        Assert.True(put.Decision.Allowed, put.Decision.Message);
        Assert.Equal("hello", Encoding.UTF8.GetString(get.Value!));
        Assert.Equal(["notes/today"], list.Keys!);
        Assert.True(deleted.Found);
        Assert.False(gone.Found);
        Assert.Null(gone.Value);
    }

    [Fact]
    public async Task Memory_LevelsAndScopes_AreChecked()
    {
        var tenant = await AgentAsync(capabilities: """{"fileSystem":"none","network":"none","memory":"write","subprocess":false,"vectorDb":false,"llm":false}""");
        var bot = fixture.Client.Agent(tenant, "bot");

        Assert.Equal(ReasonCodes.OutOfScope, (await bot.PutMemoryAsync("secrets/key", Bytes("x"))).Decision.Reason);
        Assert.True((await bot.PutMemoryAsync("notes/a", Bytes("x"))).Decision.Allowed);
        Assert.Equal(ReasonCodes.CapabilityNotGranted, (await bot.DeleteMemoryAsync("notes/a")).Decision.Reason);
        Assert.DoesNotContain(fixture.Memory.Entries, e => e.Key == "secrets/key");
    }

    [Fact]
    public async Task Memory_OtherAgentsAndTenants_CannotReachIt()
    {
        var tenant = await AgentAsync();
        await AgentAsync(tenant: tenant, agent: "other");
        var otherTenant = await AgentAsync();
        await fixture.Client.Agent(tenant, "bot").PutMemoryAsync("notes/secret", Bytes("bot's secret"));

        var sameTenant = await fixture.Client.Agent(tenant, "other").GetMemoryAsync("notes/secret");
        var sameAgentIdOtherTenant = await fixture.Client.Agent(otherTenant, "bot").GetMemoryAsync("notes/secret");
        var listed = await fixture.Client.Agent(tenant, "other").ListMemoryAsync(null);

        Assert.True(sameTenant.Decision.Allowed);
        Assert.False(sameTenant.Found);
        Assert.False(sameAgentIdOtherTenant.Found);
        Assert.Empty(listed.Keys!);
        Assert.Equal([$"{tenant}/bot"], fixture.Memory.Entries.Where(e => e.Key == "notes/secret").Select(e => e.Agent).Where(a => a.StartsWith(tenant, StringComparison.Ordinal)));
    }

    [Theory]
    [InlineData("../other/notes/secret")]
    [InlineData("notes/../../other/notes/secret")]
    [InlineData("notes/%2e%2e/x")]
    [InlineData("%2e%2e/other")]
    [InlineData("notes/x\0")]
    [InlineData("/notes/x")]
    [InlineData("notes//x")]
    [InlineData("notes/./x")]
    [InlineData("notes\\..\\x")]
    [InlineData("")]
    public async Task Memory_PathTricksInKeys_AreInvalidResource(string key)
    {
        var tenant = await AgentAsync(scopes: "{}");
        var bot = fixture.Client.Agent(tenant, "bot");

        Assert.Equal(ReasonCodes.InvalidResource, (await bot.PutMemoryAsync(key, Bytes("x"))).Decision.Reason);
        Assert.Equal(ReasonCodes.InvalidResource, (await bot.GetMemoryAsync(key)).Decision.Reason);
        Assert.DoesNotContain(fixture.Memory.Entries, e => e.Agent.StartsWith(tenant, StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("ｎotes/x")] // fullwidth n
    [InlineData("nοtes/x")] // Greek omicron
    [InlineData("NOTES/x")]
    public async Task Memory_LookAlikeKeys_AreOtherKeysOutsideTheScope(string key)
    {
        var tenant = await AgentAsync();

        Assert.Equal(ReasonCodes.OutOfScope, (await fixture.Client.Agent(tenant, "bot").PutMemoryAsync(key, Bytes("x"))).Decision.Reason);
    }

    [Fact]
    public async Task Memory_BytesStored_IsCountedAndCapped()
    {
        var tenant = await AgentAsync(limits: """{"memoryBytesStored":30}""");
        var bot = fixture.Client.Agent(tenant, "bot");

        var first = await bot.PutMemoryAsync("notes/a", new byte[20]); // 7 + 20 bytes
        var second = await bot.PutMemoryAsync("notes/b", new byte[4]);
        var replace = await bot.PutMemoryAsync("notes/a", new byte[23]); // 7 + 23: exactly the limit

        Assert.True(first.Decision.Allowed);
        Assert.Equal(27, first.StoredBytes);
        Assert.Equal(ReasonCodes.QuotaExceeded, second.Decision.Reason);
        Assert.True(replace.Decision.Allowed);
        Assert.Equal(30, replace.StoredBytes);
        Assert.Equal(ReasonCodes.QuotaExceeded, (await fixture.Client.CheckAsync(tenant, "bot", new Abstractions.CheckRequest("memory:write", "notes/c", 1))).Reason);
    }

    [Theory]
    [InlineData("""{"memoryBytesStored":30}""", long.MaxValue)]
    [InlineData("""{"memoryBytesStored":30}""", long.MaxValue - 7)] // 8 + this: just past long.MaxValue
    [InlineData("{}", long.MaxValue)] // the platform's default limit
    public async Task Check_MemoryWriteWhoseSizeOverflowsWhatIsStored_IsQuotaExceeded(string limits, long amount)
    {
        var tenant = await AgentAsync(limits: limits);
        Assert.True((await fixture.Client.Agent(tenant, "bot").PutMemoryAsync("notes/a", new byte[1])).Decision.Allowed); // 8 bytes stored

        // What is stored plus the amount wraps past long.MaxValue to a negative total, which every limit would fit.
        var decision = await fixture.Client.CheckAsync(tenant, "bot", new Abstractions.CheckRequest("memory:write", "notes/c", amount));

        Assert.False(decision.Allowed);
        Assert.Equal(ReasonCodes.QuotaExceeded, decision.Reason);
    }

    [Fact]
    public async Task Memory_KeyBeyondTheCapOf256_IsQuotaExceededAndStoresNothingUntilAKeyIsDeleted()
    {
        var tenant = await AgentAsync();
        var bot = fixture.Client.Agent(tenant, "bot");
        IEnumerable<string> Stored() => fixture.Memory.Entries.Where(e => e.Agent == $"{tenant}/bot").Select(e => e.Key);
        for (var i = 0; i < 250; i++)
        {
            var put = await bot.PutMemoryAsync($"notes/k{i:D3}", Bytes("x"));
            Assert.True(put.Decision.Allowed, put.Decision.Message);
        }

        // Twenty new keys at once for the last six places: exactly six get one.
        var race = await Task.WhenAll(Enumerable.Range(250, 20).Select(i => bot.PutMemoryAsync($"notes/k{i:D3}", Bytes("x"))));
        Assert.Equal(6, race.Count(r => r.Decision.Allowed));
        Assert.All(race.Where(r => !r.Decision.Allowed), r => Assert.Equal(ReasonCodes.QuotaExceeded, r.Decision.Reason));
        Assert.Equal(256, Stored().Count());

        var over = await bot.PutMemoryAsync("notes/extra", Bytes("x"));
        var replaced = await bot.PutMemoryAsync("notes/k000", Bytes("y"));

        Assert.Equal(ReasonCodes.QuotaExceeded, over.Decision.Reason);
        Assert.Contains("256 keys", over.Decision.Message, StringComparison.Ordinal);
        Assert.False((await bot.GetMemoryAsync("notes/extra")).Found);
        Assert.DoesNotContain("notes/extra", Stored());
        Assert.Equal(256, (await bot.ListMemoryAsync(null)).Keys!.Count);
        Assert.True(replaced.Decision.Allowed, replaced.Decision.Message); // an existing key is no new key
        Assert.Equal("y", Encoding.UTF8.GetString((await bot.GetMemoryAsync("notes/k000")).Value!));

        // The cap is counted from the store, so a new activation enforces it too.
        await fixture.DeactivateAllAsync();
        Assert.Equal(ReasonCodes.QuotaExceeded, (await bot.PutMemoryAsync("notes/extra", Bytes("x"))).Decision.Reason);

        Assert.True((await bot.DeleteMemoryAsync("notes/k100")).Found);
        var afterDelete = await bot.PutMemoryAsync("notes/extra", Bytes("x"));
        var nextOver = await bot.PutMemoryAsync("notes/extra2", Bytes("x"));

        Assert.True(afterDelete.Decision.Allowed, afterDelete.Decision.Message);
        Assert.Equal(ReasonCodes.QuotaExceeded, nextOver.Decision.Reason);
        Assert.Equal(256, Stored().Count());
        Assert.Contains("notes/extra", Stored());
        Assert.DoesNotContain("notes/k100", Stored());
    }

    [Fact]
    public async Task Memory_ValueTooLarge_IsQuotaExceeded()
    {
        var tenant = await AgentAsync();

        var result = await fixture.Client.Agent(tenant, "bot").PutMemoryAsync("notes/big", new byte[(64 << 10) + 1]);

        Assert.Equal(ReasonCodes.QuotaExceeded, result.Decision.Reason);
    }

    [Fact]
    public async Task Memory_StoreFails_IsUnavailable()
    {
        var tenant = await AgentAsync(agent: "broken");
        fixture.Memory.FailFor($"{tenant}/broken");

        Assert.Equal(ReasonCodes.Unavailable, (await fixture.Client.Agent(tenant, "broken").PutMemoryAsync("notes/a", Bytes("x"))).Decision.Reason);
    }

    [Fact]
    public async Task Memory_WithoutGrant_IsNoGrantAndStoresNothing()
    {
        var tenant = await fixture.NewTenantAsync();

        var result = await fixture.Client.Agent(tenant, "nobody").PutMemoryAsync("notes/a", Bytes("x"));

        Assert.Equal(ReasonCodes.NoGrant, result.Decision.Reason);
        Assert.False(fixture.Storage.Has("agent", $"{tenant}/nobody"));
        Assert.DoesNotContain(fixture.Memory.Entries, e => e.Agent == $"{tenant}/nobody");
    }
}

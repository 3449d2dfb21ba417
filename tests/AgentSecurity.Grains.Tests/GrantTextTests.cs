using System.Text.Json;
using System.Text.Json.Nodes;
using AgentSecurity.Abstractions.Kernel;
using AgentSecurity.Grains.Permissions;
using AgentSecurity.Grains.Tests.Infrastructure;
using AgentSecurity.Grants.Documents;
using AgentSecurity.Testing;

namespace AgentSecurity.Grains.Tests;

/// <summary>
/// What reads an agent's grant text (the issuer's delegation check through <c>GetActiveGrantAsync</c>, the state's
/// writes) gets the exact bytes stored, whether the agent holds the text rebuilt or as it is, across reactivations.
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class GrantTextTests(ClusterFixture fixture)
{
    [Fact]
    public async Task GetActiveGrant_CanonicalGrantAfterReactivation_IsTheExactTextAndDecides()
    {
        var tenant = await fixture.NewTenantAsync();
        var grant = TestDocuments.Grant(tenant, "bot", fixture.Now).SetJson("resourceLimits", """{"checksPerSecond":100}""").SignWith(TestKeys.Root);
        await fixture.ApplyAsync(grant);

        Assert.Equal(grant, await ActiveGrantAsync(tenant));
        await fixture.DeactivateAllAsync();

        Assert.True((await fixture.CheckAsync(tenant, "bot", "fileSystem:write", "/workspace/out.txt")).Allowed);
        Assert.Equal(grant, await ActiveGrantAsync(tenant));
        Assert.Equal(grant, StoredText(tenant)); // the reservation the check wrote carries the text as it was
        Assert.True(Reserved(tenant) > 0, "the check wrote a reservation"); // a deactivation writes 0
    }

    [Fact]
    public async Task GetActiveGrant_NonCanonicalTextApplied_IsTheCanonicalTextAsBeforeAndDecides()
    {
        var tenant = await fixture.NewTenantAsync();
        var grant = TestDocuments.Grant(tenant, "bot", fixture.Now).SignWith(TestKeys.Root);

        var applied = await fixture.Client.ApplyGrantAsync(NonCanonical(grant));
        await fixture.DeactivateAllAsync();

        Assert.True(applied.Applied, $"{applied.Error}: {applied.Message}");
        Assert.Equal(grant, StoredText(tenant));
        Assert.Equal(grant, await ActiveGrantAsync(tenant));
        Assert.True((await fixture.CheckAsync(tenant, "bot", "fileSystem:write", "/workspace/out.txt")).Allowed);
    }

    [Fact]
    public async Task GetActiveGrant_NonCanonicalTextInStorage_IsGivenBackAsStoredAndDecides()
    {
        // A stored text the rebuild would not give back byte for byte (written by other code, say) is kept as it is:
        // the issuer compares a delegation with the parent's exact text, and the next write stores the same bytes.
        var tenant = await fixture.NewTenantAsync();
        var grant = TestDocuments.Grant(tenant, "bot", fixture.Now).SetJson("resourceLimits", """{"checksPerSecond":100}""").SignWith(TestKeys.Root);
        await fixture.ApplyAsync(grant);
        await fixture.DeactivateAllAsync();
        var stored = NonCanonical(grant);
        var json = JsonNode.Parse(fixture.Storage.Read("agent", $"{tenant}/bot")!)!;
        json["GrantDocument"] = stored;
        fixture.Storage.Tamper("agent", $"{tenant}/bot", json.ToJsonString());

        var allowed = await fixture.CheckAsync(tenant, "bot", "fileSystem:write", "/workspace/out.txt");

        Assert.True(allowed.Allowed, $"{allowed.Reason}: {allowed.Message}");
        Assert.Equal(stored, await ActiveGrantAsync(tenant));
        Assert.Equal(stored, StoredText(tenant)); // written back by the check's reservation, as it was
        Assert.True(Reserved(tenant) > 0, "the check wrote a reservation"); // the deactivation before the tamper wrote 0
    }

    [Fact]
    public async Task ApplyGrant_TwoAgentsWithOneTemplate_TheSecondIsHeldRebuiltAfterApplyAndAfterReactivation()
    {
        // The tenant is new, so is the template: only a rebuilt text can keep it alive (the table holds templates weakly),
        // which is how the test sees what form the grains hold their texts in. The first agent with a template keeps its
        // text compressed; the second holds it rebuilt.
        var tenant = await fixture.NewTenantAsync();
        string Grant(string agent) => TestDocuments.Grant(tenant, agent, fixture.Now, agent == "bot" ? "g-1" : "g-2").SetJson("resourceLimits", """{"checksPerSecond":100}""").SignWith(TestKeys.Root);
        var template = GrantTextTemplate.Of(GrantDocument.Parse(Grant("bot")).Value.Envelope.Body);

        await fixture.ApplyAsync(Grant("bot"));
        Assert.False(HeldAlive(template), "the first agent with the template keeps its text compressed");
        await fixture.ApplyAsync(Grant("bot2"));
        Assert.True(HeldAlive(template), "the second agent's text is held rebuilt");

        await fixture.DeactivateAllAsync();
        Assert.False(HeldAlive(template), "with the agents deactivated nothing holds the template");
        Assert.True((await fixture.CheckAsync(tenant, "bot", "fileSystem:write", "/workspace/out.txt")).Allowed);
        Assert.True((await fixture.CheckAsync(tenant, "bot2", "fileSystem:write", "/workspace/out.txt")).Allowed);
        Assert.True(HeldAlive(template), "a text loaded at reactivation is held rebuilt");
        Assert.Equal(Grant("bot"), await ActiveGrantAsync(tenant));
    }

    private static bool HeldAlive(GrantTextTemplate template)
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        return SharedGrantTemplates.HoldsAlive(template);
    }

    /// <summary>The same signed grant, members in reverse order and indented: its signature still holds (it covers the canonical form).</summary>
    private static string NonCanonical(string grant)
    {
        var node = JsonNode.Parse(grant)!.AsObject();
        return new JsonObject(node.Reverse().Select(m => KeyValuePair.Create(m.Key, m.Value?.DeepClone()))).ToJsonString(new JsonSerializerOptions { WriteIndented = true });
    }

    private async Task<string?> ActiveGrantAsync(string tenant)
    {
        using var kernel = fixture.AsKernel();
        return await fixture.Cluster.Client.GetGrain<IAgentKernelGrain>($"{tenant}/bot").GetActiveGrantAsync("g-1");
    }

    private string? StoredText(string tenant) => Stored(tenant).GetProperty("GrantDocument").GetString();

    private long Reserved(string tenant) => Stored(tenant).GetProperty("Quotas").GetProperty("checksPerSecond").GetProperty("Reserved").GetInt64();

    private JsonElement Stored(string tenant) => JsonDocument.Parse(fixture.Storage.Read("agent", $"{tenant}/bot")!).RootElement;
}

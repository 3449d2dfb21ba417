using System.Text.Json;
using System.Text.Json.Nodes;
using AgentSecurity.Grains.Agents;
using AgentSecurity.Grains.Tests.Infrastructure;
using AgentSecurity.Testing;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Serialization;

namespace AgentSecurity.Grains.Tests;

/// <summary>
/// The agent's state holds its grant's text compactly in memory, and stores, copies and reads it exactly as before: the
/// same JSON member with the same string, so that what the current main stored still loads, and the exact signed text
/// comes back.
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class AgentGrainStateTests(ClusterFixture fixture)
{
    // Every kind of character a canonical text could carry: ASCII, escapes, two-byte, three-byte and four-byte UTF-8.
    private const string Text = "{\"a\":\"x\\\"y\\\\z\",\"b\":\"caf\u00e9 \u20ac \U0001F600\"}";

    [Fact]
    public void GrantDocument_StoredAsJson_IsTheSameMemberWithTheSameString()
    {
        var json = JsonSerializer.Serialize(new AgentGrainState { GrantDocument = Text, Version = 3 });

        using var stored = JsonDocument.Parse(json);
        Assert.Equal(Text, stored.RootElement.GetProperty("GrantDocument").GetString());
        Assert.False(stored.RootElement.TryGetProperty("_grantDocument", out _));
    }

    [Fact]
    public void GrantDocument_StateAsTheFormerShapeStoredIt_ReadsTheExactText()
    {
        // Written by hand as AgentGrainState was stored before its text was held as UTF-8: not through the class itself.
        var former = $$$"""
            {"GrantDocument":{{{JsonSerializer.Serialize(Text)}}},"Version":7,"State":0,"PreviousGrantIds":["g-0"],"QuarantineReason":null,
            "QuarantineIssuedAt":null,"Elevations":[],"Quotas":{"checksPerSecond":{"At":"2026-01-01T00:00:00+00:00","Used":3,"Reserved":10}},
            "PendingEvents":[],"ReplacedInActiveSecond":[]}
            """;

        var state = JsonSerializer.Deserialize<AgentGrainState>(former)!;

        Assert.Equal(Text, state.GrantDocument);
        Assert.Equal(7, state.Version);
        Assert.Equal(["g-0"], state.PreviousGrantIds);
        Assert.Equal(10, state.Quotas["checksPerSecond"].Reserved);
    }

    [Fact]
    public void GrantDocument_CopiedAndSerializedByOrleans_IsTheExactText()
    {
        var services = fixture.Cluster.Client.ServiceProvider;
        var state = new AgentGrainState { GrantDocument = Text, Version = 2 };

        var copy = services.GetRequiredService<DeepCopier<AgentGrainState>>().Copy(state);
        var serializer = services.GetRequiredService<Serializer<AgentGrainState>>();
        var read = serializer.Deserialize(serializer.SerializeToArray(state));

        Assert.Equal(Text, copy.GrantDocument);
        Assert.Equal(Text, read!.GrantDocument);
        Assert.Null(services.GetRequiredService<DeepCopier<AgentGrainState>>().Copy(new AgentGrainState()).GrantDocument);
    }

    [Fact]
    public void CopyForChange_IsTheCopiersCopyAndLeavesTheOriginalAsItWas()
    {
        var copier = fixture.Cluster.Client.ServiceProvider.GetRequiredService<DeepCopier<AgentGrainState>>();
        var state = new AgentGrainState { GrantDocument = Text, Version = 4, PreviousGrantIds = ["g-0"], QuarantineReason = "r" };

        var copy = state.CopyForChange(copier);
        copy.GrantDocument = "{\"b\":1}"; // what a change does to the copy
        copy.PreviousGrantIds = [.. copy.PreviousGrantIds, "g-1"];
        copy.Version = 5;

        Assert.Equal(Text, state.GrantDocument);
        Assert.Equal(["g-0"], state.PreviousGrantIds);
        Assert.Equal(4, state.Version);
        Assert.Equal("{\"b\":1}", copy.GrantDocument);
        Assert.Equal("r", copy.QuarantineReason);
        var unchanged = state.CopyForChange(copier);
        Assert.Equal(Text, unchanged.GrantDocument);
        Assert.Equal(JsonSerializer.Serialize(copier.Copy(state)), JsonSerializer.Serialize(unchanged));
        Assert.False(new AgentGrainState().CopyForChange(copier).HasGrantDocument);
    }

    [Fact]
    public void GrantDocument_TextThatUtf8CannotCarryExactly_IsRefusedNotChanged()
    {
        var state = new AgentGrainState();

        // A lone surrogate would come back as U+FFFD: the set throws, so a commit that tries it fails (unavailable).
        Assert.ThrowsAny<ArgumentException>(() => state.GrantDocument = "{\"a\":\"\ud800\"}");
        Assert.Null(state.GrantDocument);
    }

    [Fact]
    public async Task CheckAsync_StateStoredInTheFormerShape_LoadsAndDecidesAfterReactivation()
    {
        var tenant = await fixture.NewTenantAsync();
        var grant = TestDocuments.Grant(tenant, "bot", fixture.Now).SignWith(TestKeys.Root);
        await fixture.ApplyAsync(grant);
        using (var stored = JsonDocument.Parse(fixture.Storage.Read("agent", $"{tenant}/bot")!))
        {
            Assert.Equal(grant, stored.RootElement.GetProperty("GrantDocument").GetString());
        }

        await fixture.DeactivateAllAsync();
        fixture.Storage.Tamper("agent", $"{tenant}/bot", $$"""
            {"GrantDocument":{{JsonSerializer.Serialize(grant)}},"Version":1,"State":0,"PreviousGrantIds":[],"QuarantineReason":null,
            "QuarantineIssuedAt":null,"Elevations":[],"Quotas":{},"PendingEvents":[],"ReplacedInActiveSecond":[]}
            """);

        var allowed = await fixture.CheckAsync(tenant, "bot", "fileSystem:write", "/workspace/out.txt");
        var status = await fixture.Client.GetStatusAsync(tenant, "bot");

        Assert.True(allowed.Allowed, $"{allowed.Reason}: {allowed.Message}");
        Assert.Equal("g-1", status.GrantId);
        Assert.Null(status.Problem);
    }

    [Fact]
    public void StoredForm_EmptyAndFilledListsAndReservations_AreWrittenAsTheFormerShapeWroteThem()
    {
        // The lists are held as nothing while empty and the reservations as structs: the stored JSON must still be the
        // former shape's, [] and {} included, so that what is stored now loads in the code before, and the reverse. As
        // the kernel's storage writes it: its settings leave null members out.
        var kernel = KernelStorageJson();
        var empty = JsonNode.Parse(JsonSerializer.Serialize(new AgentGrainState(), kernel))!;
        var formerEmpty = JsonNode.Parse("""
            {"HasGrantDocument":false,"Version":0,"State":0,"PreviousGrantIds":[],"Elevations":[],"Quotas":{},"PendingEvents":[],"ReplacedInActiveSecond":[]}
            """);
        Assert.True(JsonNode.DeepEquals(formerEmpty, empty), empty.ToJsonString());

        var former = """
            {"HasGrantDocument":false,"Version":7,"State":0,"PreviousGrantIds":["g-1","g-0"],"Elevations":["{}"],"Quotas":{"llmTokensPerHour":{"At":"2026-01-01T00:00:00+00:00","Used":3,"Reserved":10},
            "checksPerSecond":{"At":"2026-01-01T00:00:01+00:00","Used":1,"Reserved":2}},"PendingEvents":["e-1"],"ReplacedInActiveSecond":["g-2"]}
            """;
        var state = JsonSerializer.Deserialize<AgentGrainState>(former, kernel)!;
        state.SetQuota("checksPerSecond", new AgentSecurity.Grains.Quotas.BucketRecord { At = TestDocuments.Epoch.AddSeconds(1), Used = 1, Reserved = 2 });

        var written = JsonSerializer.Serialize(state, kernel);
        Assert.Equal(former.ReplaceLineEndings(string.Empty), written);
        Assert.Equal(["llmTokensPerHour", "checksPerSecond"], state.Quotas.Keys);
    }

    [Fact]
    public void PreviousGrantIds_CallersArrayChangedAfterwards_StateKeepsWhatWasSet()
    {
        var ids = new[] { "g-1", "g-0" };
        var state = new AgentGrainState { PreviousGrantIds = ids, Elevations = ids };

        ids[0] = "g-forged";

        Assert.Equal(["g-1", "g-0"], state.PreviousGrantIds);
        Assert.Equal(["g-1", "g-0"], state.Elevations);
    }

    /// <summary>The JSON settings the kernel's grain storage writes with (named options the silo configures), not the defaults.</summary>
    private JsonSerializerOptions KernelStorageJson() =>
        ((Orleans.TestingHost.InProcessSiloHandle)fixture.Cluster.Primary!).SiloHost!.Services
            .GetRequiredService<Microsoft.Extensions.Options.IOptionsMonitor<SystemTextJsonGrainStorageSerializerOptions>>()
            .Get(StorageNames.Grains).JsonSerializerOptions;

    [Fact]
    public void CopyForChange_ChangedListsAndReservations_LeaveTheOriginalAsItWas()
    {
        var copier = fixture.Cluster.Client.ServiceProvider.GetRequiredService<DeepCopier<AgentGrainState>>();
        var state = new AgentGrainState { Elevations = ["{}"], PendingEvents = ["e-1"] };
        state.SetQuota("checksPerSecond", new AgentSecurity.Grains.Quotas.BucketRecord { Used = 1, Reserved = 2 });

        var copy = state.CopyForChange(copier);
        copy.SetQuota("checksPerSecond", new AgentSecurity.Grains.Quotas.BucketRecord { Used = 5, Reserved = 9 });
        copy.SetQuota("llmTokensPerHour", new AgentSecurity.Grains.Quotas.BucketRecord { Used = 1 });
        copy.AddPendingEvents(["e-2"]);
        copy.RemovePendingEvents(new HashSet<string> { "e-1" });
        copy.Elevations = [];
        copy.ReplacedInActiveSecond = ["g-0"];

        Assert.Equal(2, state.Quotas["checksPerSecond"].Reserved);
        Assert.Single(state.Quotas);
        Assert.Equal(["e-1"], state.PendingEvents);
        Assert.Equal(["{}"], state.Elevations);
        Assert.Empty(state.ReplacedInActiveSecond);
        Assert.Equal(9, copy.Quotas["checksPerSecond"].Reserved);
        Assert.Equal(["e-2"], copy.PendingEvents);
        Assert.Equal(JsonSerializer.Serialize(copier.Copy(copy)), JsonSerializer.Serialize(copy.CopyForChange(copier)));
    }
}

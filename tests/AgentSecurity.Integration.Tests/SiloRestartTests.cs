using AgentSecurity.Grants;
using AgentSecurity.Integration.Tests.Infrastructure;

namespace AgentSecurity.Integration.Tests;

/// <summary>State lives in Azure Table storage (Azurite), not in the silo: a killed silo loses nothing applied.</summary>
[Collection(ClusterProcessCollection.Name)]
public sealed class SiloRestartTests(ClusterProcessFixture cluster)
{
    [Fact]
    public async Task AppliedGrant_SiloProcessKilledAndRestarted_StillDecidesAndStillRefusesReplays()
    {
        var tenant = "restart-" + Guid.NewGuid().ToString("N")[..10];
        var rootKey = cluster.PathOf($"{tenant}-root.key");
        var root = (await cluster.AgentsecAsync("key", "new", "--out", rootKey, "--json")).Field("did");
        Assert.Equal(0, (await cluster.AgentsecAsync("tenant", "create", tenant, "--root", root, "--operator-key", cluster.OperatorKeyFile)).ExitCode);
        var grantFile = cluster.PathOf($"{tenant}.grant.json");
        await cluster.AgentsecAsync("grant", "sign", "--key", rootKey, "--tenant", tenant, "--agent", "bot", "--fs", "read", "--grant-id", "g-durable", "--out", grantFile);
        var applied = await cluster.AgentsecAsync("grant", "apply", grantFile, "--json");
        Assert.True(applied.ExitCode == 0, applied.ToString());

        await cluster.RestartSiloAsync();

        var allowed = await cluster.AgentsecAsync("check", $"{tenant}/bot", "fileSystem:read", "--resource", "/data/x", "--json");
        Assert.True(allowed.ExitCode == 0, allowed.ToString());
        Assert.Equal("g-durable", allowed.Field("grantId"));
        var denied = await cluster.AgentsecAsync("check", $"{tenant}/bot", "fileSystem:write", "--resource", "/data/x", "--json");
        Assert.Equal(ReasonCodes.CapabilityNotGranted, denied.Field("reason"));
        var status = await cluster.AgentsecAsync("status", $"{tenant}/bot", "--json");
        Assert.Equal(1, status.Json.GetProperty("version").GetInt64());

        // The issuer's memory of used grant ids survived too.
        var reused = cluster.PathOf($"{tenant}.reused.json");
        await cluster.AgentsecAsync("grant", "sign", "--key", rootKey, "--tenant", tenant, "--agent", "other", "--fs", "full", "--grant-id", "g-durable", "--out", reused);
        var replay = await cluster.AgentsecAsync("grant", "apply", reused, "--json");
        Assert.Equal(ReasonCodes.Replayed, replay.Field("error"));
    }

    [Fact]
    public async Task QuotaCounterAndMemory_SiloProcessKilled_SurviveWithinTheStatedWindow()
    {
        var tenant = "quota-" + Guid.NewGuid().ToString("N")[..10];
        var rootKey = cluster.PathOf($"{tenant}-root.key");
        var root = (await cluster.AgentsecAsync("key", "new", "--out", rootKey, "--json")).Field("did");
        Assert.Equal(0, (await cluster.AgentsecAsync("tenant", "create", tenant, "--root", root, "--operator-key", cluster.OperatorKeyFile)).ExitCode);
        var grantFile = cluster.PathOf($"{tenant}.grant.json");
        await cluster.AgentsecAsync("grant", "sign", "--key", rootKey, "--tenant", tenant, "--agent", "bot", "--llm", "--memory", "write",
            "--scope", "memory=notes/**", "--limit", "llmTokensPerHour=1000", "--out", grantFile);
        Assert.Equal(0, (await cluster.AgentsecAsync("grant", "apply", grantFile)).ExitCode);
        Assert.Equal(0, (await cluster.AgentsecAsync("check", $"{tenant}/bot", "llm", "--amount", "700")).ExitCode);
        Assert.Equal(0, (await cluster.AgentsecAsync("memory", "put", $"{tenant}/bot", "notes/today", "remember this")).ExitCode);

        await cluster.RestartSiloAsync();

        // 700 of 1000 were spent before the crash, and a minute of refill gives back at most 17: never 320 more. The
        // stated loss window counts at most a chunk and a half (150) more as spent, so 150 are still there.
        var over = await cluster.AgentsecAsync("check", $"{tenant}/bot", "llm", "--amount", "320", "--json");
        Assert.Equal(ReasonCodes.QuotaExceeded, over.Field("reason"));
        Assert.Equal(0, (await cluster.AgentsecAsync("check", $"{tenant}/bot", "llm", "--amount", "150")).ExitCode);
        var remembered = await cluster.AgentsecAsync("memory", "get", $"{tenant}/bot", "notes/today", "--json");
        Assert.Equal("remember this", remembered.Field("value"));
    }
}

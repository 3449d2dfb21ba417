using AgentSecurity.Grants;
using AgentSecurity.Integration.Tests.Infrastructure;

namespace AgentSecurity.Integration.Tests;

/// <summary>Agent memory on Azure Blob storage (Azurite), through the command line.</summary>
[Collection(ClusterProcessCollection.Name)]
public sealed class AgentMemoryTests(ClusterProcessFixture cluster)
{
    [Fact]
    public async Task Memory_OnBlobStorage_IsPerAgentAndChecked()
    {
        var tenant = "mem-" + Guid.NewGuid().ToString("N")[..10];
        var rootKey = cluster.PathOf($"{tenant}-root.key");
        var root = (await cluster.AgentsecAsync("key", "new", "--out", rootKey, "--json")).Field("did");
        await cluster.CreateTenantAsync(tenant, root);
        foreach (var agent in new[] { "bot", "other" })
        {
            var file = cluster.PathOf($"{tenant}-{agent}.json");
            await cluster.AgentsecAsync("grant", "sign", "--key", rootKey, "--tenant", tenant, "--agent", agent, "--memory", "full", "--scope", "memory=notes/**", "--out", file);
            await cluster.ApplyGrantFileAsync(file);
        }

        Assert.Equal(0, (await cluster.AgentsecAsync("memory", "put", $"{tenant}/bot", "notes/a", "alpha")).ExitCode);
        Assert.Equal(0, (await cluster.AgentsecAsync("memory", "put", $"{tenant}/bot", "notes/b/c", "beta")).ExitCode);

        var listed = await cluster.AgentsecAsync("memory", "list", $"{tenant}/bot", "--json");
        Assert.Equal(["notes/a", "notes/b/c"], listed.Json.GetProperty("keys").EnumerateArray().Select(k => k.GetString()!));
        var others = await cluster.AgentsecAsync("memory", "get", $"{tenant}/other", "notes/a", "--json");
        Assert.False(others.Json.GetProperty("found").GetBoolean());
        Assert.Equal(ReasonCodes.InvalidResource, (await cluster.AgentsecAsync("memory", "get", $"{tenant}/other", "../bot/notes/a", "--json")).Field("error"));
        Assert.Equal(ReasonCodes.OutOfScope, (await cluster.AgentsecAsync("memory", "put", $"{tenant}/bot", "secrets/x", "no", "--json")).Field("error"));
        Assert.Equal(0, (await cluster.AgentsecAsync("memory", "delete", $"{tenant}/bot", "notes/a")).ExitCode);
        Assert.False((await cluster.AgentsecAsync("memory", "get", $"{tenant}/bot", "notes/a", "--json")).Json.GetProperty("found").GetBoolean());
    }
}

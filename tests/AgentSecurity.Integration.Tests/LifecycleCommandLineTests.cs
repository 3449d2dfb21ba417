using AgentSecurity.Grants;
using AgentSecurity.Integration.Tests.Infrastructure;

namespace AgentSecurity.Integration.Tests;

/// <summary>The grant lifecycle through the built <c>agentsec</c>: admins, requests, quarantine, revocation, rotation.</summary>
[Collection(ClusterProcessCollection.Name)]
public sealed class LifecycleCommandLineTests(ClusterProcessFixture cluster)
{
    [Fact]
    public async Task Agentsec_Lifecycle_WithContractShapesAndCodes()
    {
        var tenant = "life-" + Guid.NewGuid().ToString("N")[..10];
        var (rootKey, root) = await KeyAsync($"{tenant}-root");
        var (adminKey, admin) = await KeyAsync($"{tenant}-admin");
        var (_, newRoot) = await KeyAsync($"{tenant}-new");
        Assert.Equal(0, (await cluster.AgentsecAsync("tenant", "create", tenant, "--root", root, "--operator-key", cluster.OperatorKeyFile)).ExitCode);

        var added = await cluster.AgentsecAsync("admin", "add", "--key", rootKey, "--tenant", tenant, "--admin", admin, "--ceiling", "fileSystem=read,llm", "--json");
        Assert.True(added.ExitCode == 0, added.ToString());
        Assert.Equal(admin, added.Field("adminDid"));

        var grant = cluster.PathOf($"{tenant}.json");
        await cluster.AgentsecAsync("grant", "sign", "--key", adminKey, "--tenant", tenant, "--agent", "bot", "--fs", "read", "--llm", "--grant-id", "g-admin", "--out", grant);
        Assert.Equal(0, (await cluster.AgentsecAsync("grant", "apply", grant)).ExitCode);
        var wide = cluster.PathOf($"{tenant}-wide.json");
        await cluster.AgentsecAsync("grant", "sign", "--key", adminKey, "--tenant", tenant, "--agent", "bot", "--fs", "write", "--out", wide);
        Assert.Equal(ReasonCodes.Escalation, (await cluster.AgentsecAsync("grant", "apply", wide, "--json")).Field("error"));

        var explained = await cluster.AgentsecAsync("check", $"{tenant}/bot", "fileSystem:write", "--resource", "/data/x", "--explain", "--json");
        Assert.Equal(1, explained.ExitCode);
        Assert.Equal("capabilities.fileSystem", explained.Field("decidedBy"));
        Assert.Equal("set capabilities.fileSystem to \"write\"", explained.Field("suggestion"));

        var asked = await cluster.AgentsecAsync("request", $"{tenant}/bot", "network:outbound", "--resource", "api.example.org:443", "--justification", "fetch the report", "--json");
        Assert.True(asked.ExitCode == 0, asked.ToString());
        var requestId = asked.Field("requestId");
        var listed = await cluster.AgentsecAsync("requests", "list", tenant, "--json");
        Assert.Equal("pending", listed.Json.GetProperty("requests")[0].GetProperty("status").GetString());
        var approved = await cluster.AgentsecAsync("requests", "approve", tenant, requestId, "--key", rootKey, "--expires-in", "30m", "--json");
        Assert.True(approved.ExitCode == 0, approved.ToString());
        Assert.Equal(0, (await cluster.AgentsecAsync("check", $"{tenant}/bot", "network:outbound", "--resource", "api.example.org:443")).ExitCode);

        var quarantined = await cluster.AgentsecAsync("quarantine", "--key", adminKey, $"{tenant}/bot", "--reason", "odd", "--json");
        Assert.Equal(($"{tenant}/bot", "quarantined"), (quarantined.Field("agent"), quarantined.Field("status")));
        Assert.Equal(ReasonCodes.Quarantined, (await cluster.AgentsecAsync("check", $"{tenant}/bot", "llm", "--json")).Field("reason"));
        await Task.Delay(1100); // documents carry whole seconds; a release must be issued after the quarantine
        Assert.Equal("active", (await cluster.AgentsecAsync("quarantine", "--key", adminKey, $"{tenant}/bot", "--release", "--json")).Field("status"));

        var revoked = await cluster.AgentsecAsync("revoke", "--key", adminKey, "--tenant", tenant, "--grant", "g-admin", "--reason", "done", "--json");
        Assert.True(revoked.ExitCode == 0, revoked.ToString());
        Assert.Equal("g-admin", revoked.Field("revoked"));
        Assert.Equal(ReasonCodes.Revoked, (await cluster.AgentsecAsync("check", $"{tenant}/bot", "llm", "--json")).Field("reason"));
        Assert.Equal(ReasonCodes.Revoked, (await cluster.AgentsecAsync("grant", "apply", grant, "--json")).Field("error"));

        var rotated = await cluster.AgentsecAsync("rotate", "--key", rootKey, "--tenant", tenant, "--new-root", newRoot, "--json");
        Assert.True(rotated.ExitCode == 0, rotated.ToString());
        var shown = await cluster.AgentsecAsync("tenant", "show", tenant, "--json");
        Assert.Equal(newRoot, shown.Json.GetProperty("rootDids")[0].GetString());
        Assert.Equal(root, shown.Json.GetProperty("retiredRootDids")[0].GetString());
        var retired = await cluster.AgentsecAsync("rotate", "--key", rootKey, "--tenant", tenant, "--new-root", admin, "--json");
        Assert.Equal(ReasonCodes.UntrustedSigner, retired.Field("error"));
    }

    [Fact]
    public async Task RequestsApprove_RequestWithoutAResource_IsRefusedUnlessAnyResourceIsSaidAndThenWarns()
    {
        var tenant = "any-" + Guid.NewGuid().ToString("N")[..10];
        var (rootKey, root) = await KeyAsync($"{tenant}-root");
        Assert.Equal(0, (await cluster.AgentsecAsync("tenant", "create", tenant, "--root", root, "--operator-key", cluster.OperatorKeyFile)).ExitCode);
        var grant = cluster.PathOf($"{tenant}.json");
        await cluster.AgentsecAsync("grant", "sign", "--key", rootKey, "--tenant", tenant, "--agent", "bot", "--net", "outbound", "--scope", "network=api.example.com:443", "--out", grant);
        Assert.Equal(0, (await cluster.AgentsecAsync("grant", "apply", grant)).ExitCode);
        var requestId = (await cluster.AgentsecAsync("request", $"{tenant}/bot", "network:outbound", "--justification", "any host", "--json")).Field("requestId");

        var refused = await cluster.AgentsecAsync("requests", "approve", tenant, requestId, "--key", rootKey, "--json");
        Assert.Equal(2, refused.ExitCode);
        Assert.Contains("ANY host", refused.Field("message"), StringComparison.Ordinal);
        Assert.Equal("pending", (await cluster.AgentsecAsync("requests", "list", tenant, "--json")).Json.GetProperty("requests")[0].GetProperty("status").GetString());

        var approved = await cluster.AgentsecAsync("requests", "approve", tenant, requestId, "--key", rootKey, "--any-resource", "--json");
        Assert.True(approved.ExitCode == 0, approved.ToString());
        Assert.Equal("True", approved.Field("anyResource"));
        Assert.Contains("WARNING", approved.Stderr, StringComparison.Ordinal);
        Assert.Equal(0, (await cluster.AgentsecAsync("check", $"{tenant}/bot", "network:outbound", "--resource", "other.example.org:443")).ExitCode);
        Assert.Equal(ReasonCodes.InternalAddress, (await cluster.AgentsecAsync("check", $"{tenant}/bot", "network:outbound", "--resource", "127.0.0.1:8080", "--json")).Field("reason"));
    }

    private async Task<(string File, string Did)> KeyAsync(string name)
    {
        var file = cluster.PathOf($"{name}.key");
        return (file, (await cluster.AgentsecAsync("key", "new", "--out", file, "--json")).Field("did"));
    }
}

using AgentSecurity.Grants;
using AgentSecurity.Integration.Tests.Infrastructure;

namespace AgentSecurity.Integration.Tests;

/// <summary>Grant v2 through the built <c>agentsec</c>: an admin with tools in its ceiling, tool rules, explain, what-if, approval.</summary>
[Collection(ClusterProcessCollection.Name)]
public sealed class ToolGrantCommandLineTests(ClusterProcessFixture cluster)
{
    private const string Pin = "sha256:1d8b2b6ca5e1073726f4f41ba61ac8c888d2867157d6cf12547c55051c7f482a";

    [Fact]
    public async Task Agentsec_ToolGrant_DecidesExplainsAndApprovesTools()
    {
        var tenant = "tools-" + Guid.NewGuid().ToString("N")[..10];
        var (rootKey, root) = await KeyAsync($"{tenant}-root");
        var (adminKey, admin) = await KeyAsync($"{tenant}-admin");
        Assert.Equal(0, (await cluster.AgentsecAsync("tenant", "create", tenant, "--root", root, "--operator-key", cluster.OperatorKeyFile)).ExitCode);
        var added = await cluster.AgentsecAsync("admin", "add", "--key", rootKey, "--tenant", tenant, "--admin", admin, "--ceiling", "fileSystem=read", "--tool", "fs/*", "--json");
        Assert.True(added.ExitCode == 0, added.ToString());

        var grant = cluster.PathOf($"{tenant}.json");
        var signed = await cluster.AgentsecAsync("grant", "sign", "--key", adminKey, "--tenant", tenant, "--agent", "bot", "--fs", "read",
            "--tool", "fs/read_*", "--tool", "fs/write_file", "--approve", "fs/write_*", "--pin", $"fs/read_text_file={Pin}", "--out", grant, "--json");
        Assert.Equal("agentsec.grant.v2", signed.Field("type"));
        var applied = await cluster.AgentsecAsync("grant", "apply", grant, "--json");
        Assert.True(applied.ExitCode == 0, applied.ToString());
        var beyond = cluster.PathOf($"{tenant}-beyond.json");
        await cluster.AgentsecAsync("grant", "sign", "--key", adminKey, "--tenant", tenant, "--agent", "bot", "--fs", "read", "--tool", "github/*", "--out", beyond);
        Assert.Equal(ReasonCodes.Escalation, (await cluster.AgentsecAsync("grant", "apply", beyond, "--json")).Field("error"));

        async Task<CliResult> CheckAsync(params string[] args) => await cluster.AgentsecAsync(["check", $"{tenant}/bot", "tool:call", .. args, "--json"]);
        var pinned = await CheckAsync("--resource", "fs/read_text_file", "--definition-hash", Pin);
        Assert.True(pinned.ExitCode == 0, pinned.ToString());
        Assert.Equal(ReasonCodes.ToolChanged, (await CheckAsync("--resource", "fs/read_text_file")).Field("reason"));
        var outOfScope = await CheckAsync("--resource", "fs/delete_file", "--explain");
        Assert.Equal((1, ReasonCodes.OutOfScope, "capabilities.tools", "add \"fs/delete_file\" to capabilities.tools"),
            (outOfScope.ExitCode, outOfScope.Field("reason"), outOfScope.Field("decidedBy"), outOfScope.Field("suggestion")));
        var needsApproval = await CheckAsync("--resource", "fs/write_file", "--explain");
        Assert.Equal((ReasonCodes.ApprovalRequired, "toolRules.approve \"fs/write_*\""), (needsApproval.Field("reason"), needsApproval.Field("decidedBy")));
        Assert.Equal(ReasonCodes.InvalidResource, (await CheckAsync("--resource", "fs/*")).Field("reason"));

        var proposal = cluster.PathOf($"{tenant}-proposal.json");
        await cluster.AgentsecAsync("grant", "sign", "--key", adminKey, "--tenant", tenant, "--agent", "bot", "--fs", "read", "--tool", "fs/delete_*", "--out", proposal);
        var whatIf = await cluster.AgentsecAsync("whatif", $"{tenant}/bot", "tool:call", "--resource", "fs/delete_file", "--grant", proposal, "--json");
        Assert.Equal((0, "proposal: capabilities.tools \"fs/delete_*\""), (whatIf.ExitCode, whatIf.Field("decidedBy")));

        var asked = await cluster.AgentsecAsync("request", $"{tenant}/bot", "tool:call", "--resource", "fs/write_file", "--justification", "write the report", "--json");
        Assert.True(asked.ExitCode == 0, asked.ToString());
        var approved = await cluster.AgentsecAsync("requests", "approve", tenant, asked.Field("requestId"), "--key", adminKey, "--expires-in", "30m", "--json");
        Assert.True(approved.ExitCode == 0, approved.ToString());
        Assert.Equal(0, (await CheckAsync("--resource", "fs/write_file")).ExitCode);
        Assert.Equal(ReasonCodes.OutOfScope, (await CheckAsync("--resource", "fs/delete_file")).Field("reason"));
    }

    private async Task<(string File, string Did)> KeyAsync(string name)
    {
        var file = cluster.PathOf($"{name}.key");
        return (file, (await cluster.AgentsecAsync("key", "new", "--out", file, "--json")).Field("did"));
    }
}

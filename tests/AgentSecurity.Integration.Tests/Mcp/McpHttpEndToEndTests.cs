using System.Text.Json;
using AgentSecurity.Grants;
using AgentSecurity.Integration.Tests.Infrastructure;
using AgentSecurity.Testing;

namespace AgentSecurity.Integration.Tests.Mcp;

/// <summary>
/// The silo's Streamable HTTP endpoint <c>/mcp/{tenant}/{agent}</c> as an agent's host uses it: the official TypeScript
/// MCP client with a bearer session, the real filesystem MCP server configured on the silo and started per agent as a
/// sandboxed native execution on that agent's workspace.
/// </summary>
[Collection(ClusterProcessCollection.Name)]
public sealed class McpHttpEndToEndTests(ClusterProcessFixture cluster)
{
    private static readonly string NodeModules = Path.Combine(RepositoryPaths.Root, "mcp-servers", "node_modules");

    private Task<(string Tenant, string RootKey)> TenantAsync(string prefix, params string[] agents) => TenantAsync(prefix, "native", agents);

    private Task<(string Tenant, string RootKey)> TenantAsync(string prefix, string isolation, string[] agents) => TenantAsync(prefix, isolation, agents, []);

    private async Task<(string Tenant, string RootKey)> TenantAsync(string prefix, string isolation, string[] agents, string[] moreGrantArguments)
    {
        var tenant = $"{prefix}-{Guid.NewGuid():N}"[..20];
        var rootKey = cluster.PathOf($"{tenant}-root.key");
        var root = (await cluster.AgentsecAsync("key", "new", "--out", rootKey, "--json")).Field("did");
        await cluster.CreateTenantAsync(tenant, root);
        foreach (var agent in agents)
        {
            var grant = cluster.PathOf($"{tenant}-{agent}.json");
            var signed = await cluster.AgentsecAsync(["grant", "sign", "--key", rootKey, "--tenant", tenant, "--agent", agent,
                "--isolation", isolation, "--subprocess", "--fs", "write", "--scope", "fileSystem=/workspace/**", "--scope", "fileSystem=/workspace",
                "--tool", "fs/write_file", "--tool", "fs/read_text_file", "--tool", "fs/list_directory", .. moreGrantArguments, "--out", grant, "--json"]);
            Assert.True(signed.ExitCode == 0, signed.ToString());
            await cluster.ApplyGrantFileAsync(grant);
        }

        return (tenant, rootKey);
    }

    private async Task<JsonElement> SessionAsync(string tenant, string agent, string? authorization, object[] calls)
    {
        var run = await cluster.RunAsync("node",
        [
            Path.Combine(AppContext.BaseDirectory, "Mcp", "ts-http-calls.mjs"), NodeModules,
            new Uri(cluster.Http, $"mcp/{tenant}/{agent}").ToString(), authorization ?? string.Empty, JsonSerializer.Serialize(calls),
        ]);
        Assert.True(run.ExitCode == 0, run.ToString());
        return JsonDocument.Parse(run.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries)[^1]).RootElement.Clone();
    }

    [Fact]
    public async Task McpEndpoint_TypeScriptClientOverHttp_FileServerSeesOnlyItsAgentsWorkspace()
    {
        var (tenant, rootKey) = await TenantAsync("mcph", "bot", "other");
        var caller = await HttpCallers.NodeSessionAsync(cluster);
        await HttpCallers.GrantAccessAsync(cluster, rootKey, tenant, caller.Did, "check,execute");

        var bot = await SessionAsync(tenant, "bot", caller.Bearer,
        [
            new { name = "fs/write_file", arguments = new { path = "/workspace/bot.txt", content = "from bot\n" } },
            new { name = "fs/read_text_file", arguments = new { path = "/workspace/bot.txt" } },
        ]);
        var outside = await SessionAsync(tenant, "bot", caller.Bearer, [new { name = "fs/read_text_file", arguments = new { path = "/etc/hostname" } }]);
        var other = await SessionAsync(tenant, "other", caller.Bearer,
        [
            new { name = "fs/write_file", arguments = new { path = "/workspace/other.txt", content = "from other\n" } },
            new { name = "fs/list_directory", arguments = new { path = "/workspace" } },
        ]);

        Assert.Equal(["fs/list_directory", "fs/read_text_file", "fs/write_file"], bot.GetProperty("tools").EnumerateArray().Select(t => t.GetString()));
        Assert.All(bot.GetProperty("results").EnumerateArray().Concat(other.GetProperty("results").EnumerateArray()), r =>
            Assert.False(r.TryGetProperty("isError", out var e) && e.GetBoolean(), r.ToString()));
        Assert.Equal("from bot\n", TextOf(bot.GetProperty("results")[1]));
        var listing = TextOf(other.GetProperty("results")[1]);
        Assert.Contains("other.txt", listing, StringComparison.Ordinal);
        Assert.DoesNotContain("bot.txt", listing, StringComparison.Ordinal);

        // A path outside the grant's scopes never reaches the server.
        var refused = outside.GetProperty("results")[0];
        Assert.True(refused.GetProperty("isError").GetBoolean(), refused.ToString());
        Assert.StartsWith("out_of_scope: ", TextOf(refused), StringComparison.Ordinal);

        // The files are in each agent's own workspace on the silo's machine.
        var workspaces = cluster.PathOf("workspaces");
        Assert.Equal("from bot\n", File.ReadAllText(Path.Combine(workspaces, tenant, "bot", "bot.txt")));
        Assert.Equal("from other\n", File.ReadAllText(Path.Combine(workspaces, tenant, "other", "other.txt")));
    }

    [Fact]
    public async Task McpEndpoint_UrlUpstream_GrantedRemoteToolForwardedOthersHiddenAndRefused()
    {
        var tenant = $"mcpr-{Guid.NewGuid():N}"[..20];
        var rootKey = cluster.PathOf($"{tenant}-root.key");
        var root = (await cluster.AgentsecAsync("key", "new", "--out", rootKey, "--json")).Field("did");
        await cluster.CreateTenantAsync(tenant, root);
        var grant = cluster.PathOf($"{tenant}-bot.json");
        var signed = await cluster.AgentsecAsync("grant", "sign", "--key", rootKey, "--tenant", tenant, "--agent", "bot",
            "--isolation", "native", "--subprocess", "--tool", "remote/echo", "--out", grant, "--json");
        Assert.True(signed.ExitCode == 0, signed.ToString());
        await cluster.ApplyGrantFileAsync(grant);
        var caller = await HttpCallers.NodeSessionAsync(cluster);
        await HttpCallers.GrantAccessAsync(cluster, rootKey, tenant, caller.Did, "check,execute");

        var session = await SessionAsync(tenant, "bot", caller.Bearer,
        [
            new { name = "remote/echo", arguments = new { message = "through the silo" } },
            new { name = "remote/get-sum", arguments = new { a = 1, b = 2 } },
        ]);

        Assert.Equal(["remote/echo"], session.GetProperty("tools").EnumerateArray().Select(t => t.GetString()));
        Assert.Equal("Echo: through the silo", TextOf(session.GetProperty("results")[0]));
        var refused = session.GetProperty("results")[1];
        Assert.True(refused.GetProperty("isError").GetBoolean(), refused.ToString());
        Assert.StartsWith("out_of_scope: ", TextOf(refused), StringComparison.Ordinal);
    }

    [Fact]
    public async Task McpEndpoint_WithoutSession_Is401()
    {
        var (tenant, _) = await TenantAsync("mcpu", "bot");

        var refused = await SessionAsync(tenant, "bot", null, []);

        Assert.Equal(401, refused.GetProperty("status").GetInt32());
    }

    [Fact]
    public async Task McpEndpoint_SessionWithoutExecute_Is403()
    {
        var (tenant, rootKey) = await TenantAsync("mcpf", "bot");
        var caller = await HttpCallers.NodeSessionAsync(cluster);
        await HttpCallers.GrantAccessAsync(cluster, rootKey, tenant, caller.Did, "check");

        var refused = await SessionAsync(tenant, "bot", caller.Bearer, []);

        Assert.Equal(403, refused.GetProperty("status").GetInt32());
    }

    [Fact]
    public async Task McpEndpoint_AgentQuarantinedAfterUse_Is403Quarantined()
    {
        var (tenant, rootKey) = await TenantAsync("mcpq", "bot");
        var caller = await HttpCallers.NodeSessionAsync(cluster);
        await HttpCallers.GrantAccessAsync(cluster, rootKey, tenant, caller.Did, "check,execute");
        var before = await SessionAsync(tenant, "bot", caller.Bearer, [new { name = "fs/write_file", arguments = new { path = "/workspace/a.txt", content = "a" } }]);
        Assert.False(before.GetProperty("results")[0].TryGetProperty("isError", out var e) && e.GetBoolean(), before.ToString());

        var quarantined = await cluster.AgentsecAsync("quarantine", "--key", rootKey, $"{tenant}/bot", "--reason", "mcp test", "--json");
        Assert.True(quarantined.ExitCode == 0, quarantined.ToString());
        var after = await SessionAsync(tenant, "bot", caller.Bearer, []);

        Assert.Equal(403, after.GetProperty("status").GetInt32());
        Assert.Contains(ReasonCodes.Quarantined, after.GetProperty("error").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task McpEndpoint_SandboxedGrant_Is403IsolationForbids()
    {
        var (tenant, rootKey) = await TenantAsync("mcpi", "sandboxed", ["bot"]);
        var caller = await HttpCallers.NodeSessionAsync(cluster);
        await HttpCallers.GrantAccessAsync(cluster, rootKey, tenant, caller.Did, "check,execute");

        var refused = await SessionAsync(tenant, "bot", caller.Bearer, []);

        Assert.Equal(403, refused.GetProperty("status").GetInt32());
        Assert.Contains(ReasonCodes.IsolationForbids, refused.GetProperty("error").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task McpEndpoint_BodyOverTheLimit_Is413BeforeTheAgentIsAsked()
    {
        var (tenant, rootKey) = await TenantAsync("mcpb", "bot");
        var caller = await HttpCallers.NodeSessionAsync(cluster);
        await HttpCallers.GrantAccessAsync(cluster, rootKey, tenant, caller.Did, "check,execute");
        using var http = HttpCallers.Client(cluster);
        var huge = "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\",\"params\":{\"x\":\"" + new string('a', 5 * 1024 * 1024) + "\"}}";

        using var request = HttpCallers.Post($"/mcp/{tenant}/bot", huge, caller.Bearer);
        request.Headers.Accept.ParseAdd("application/json, text/event-stream");
        using var response = await http.SendAsync(request);

        Assert.Equal(System.Net.HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
    }

    [Fact]
    public async Task McpEndpoint_GrantAllowsLessMemoryThanTheServerNeeds_CallsRefusedMemoryLimit()
    {
        var (tenant, rootKey) = await TenantAsync("mcpm", "native", ["bot"], ["--limit", $"maxMemoryBytes={64L * 1024 * 1024}"]);
        var caller = await HttpCallers.NodeSessionAsync(cluster);
        await HttpCallers.GrantAccessAsync(cluster, rootKey, tenant, caller.Did, "check,execute");

        var session = await SessionAsync(tenant, "bot", caller.Bearer, [new { name = "fs/list_directory", arguments = new { path = "/workspace" } }]);

        Assert.Empty(session.GetProperty("tools").EnumerateArray());
        var refused = session.GetProperty("results")[0];
        Assert.True(refused.GetProperty("isError").GetBoolean(), refused.ToString());
        Assert.StartsWith("unavailable: upstream fs is unavailable: memory_limit: server fs needs 268435456 bytes", TextOf(refused), StringComparison.Ordinal);
    }

    [Fact]
    public async Task McpEndpoint_SandboxedServerKilled_StartedAgainForTheNextCall()
    {
        var (tenant, rootKey) = await TenantAsync("mcpk", "bot");
        var caller = await HttpCallers.NodeSessionAsync(cluster);
        await HttpCallers.GrantAccessAsync(cluster, rootKey, tenant, caller.Did, "check,execute");
        var before = await SessionAsync(tenant, "bot", caller.Bearer, [new { name = "fs/write_file", arguments = new { path = "/workspace/a.txt", content = "kept\n" } }]);
        Assert.False(before.GetProperty("results")[0].TryGetProperty("isError", out var e) && e.GetBoolean(), before.ToString());

        // The sandbox of this agent's server is the one whose command line binds its workspace.
        var workspace = Path.Combine(cluster.PathOf("workspaces"), tenant, "bot");
        var killed = KillProcessesNaming(workspace);
        var after = await SessionAsync(tenant, "bot", caller.Bearer, [new { name = "fs/read_text_file", arguments = new { path = "/workspace/a.txt" } }]);

        Assert.NotEmpty(killed);
        Assert.Equal("kept\n", TextOf(after.GetProperty("results")[0]));
        Assert.DoesNotContain(KillProcessesNaming(workspace, dryRun: true), killed.Contains);
    }

    [Fact]
    public async Task McpEndpoint_SandboxedServerCrashesUnderItsMemoryLimit_UnavailableWithItsExitThenServesOn()
    {
        var (tenant, rootKey) = await TenantAsync("mcpo", "bot");
        var caller = await HttpCallers.NodeSessionAsync(cluster);
        await HttpCallers.GrantAccessAsync(cluster, rootKey, tenant, caller.Did, "check,execute");
        await SessionAsync(tenant, "bot", caller.Bearer, [new { name = "fs/write_file", arguments = new { path = "/workspace/small.txt", content = "small\n" } }]);
        // Reading a file of one 5 MiB line takes the server (node in 256 MiB of address space) past its limit: it dies.
        await File.WriteAllTextAsync(Path.Combine(cluster.PathOf("workspaces"), tenant, "bot", "huge.txt"), new string('y', 5 * 1024 * 1024));

        var session = await SessionAsync(tenant, "bot", caller.Bearer,
        [
            new { name = "fs/read_text_file", arguments = new { path = "/workspace/huge.txt" } },
            new { name = "fs/read_text_file", arguments = new { path = "/workspace/small.txt" } },
        ]);

        var crashed = session.GetProperty("results")[0];
        Assert.True(crashed.GetProperty("isError").GetBoolean(), crashed.ToString());
        Assert.StartsWith("unavailable: upstream fs exited (code ", TextOf(crashed), StringComparison.Ordinal);
        Assert.Equal("small\n", TextOf(session.GetProperty("results")[1]));
    }

    [Theory]
    [InlineData("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":")]
    [InlineData("[]")]
    [InlineData("{\"jsonrpc\":\"1.0\",\"id\":1,\"method\":\"tools/list\"}")]
    public async Task McpEndpoint_MalformedJsonRpc_ClientErrorAndTheEndpointServesOn(string body)
    {
        var (tenant, rootKey) = await TenantAsync("mcpj", "bot");
        var caller = await HttpCallers.NodeSessionAsync(cluster);
        await HttpCallers.GrantAccessAsync(cluster, rootKey, tenant, caller.Did, "check,execute");
        using var http = HttpCallers.Client(cluster);

        using var request = HttpCallers.Post($"/mcp/{tenant}/bot", body, caller.Bearer);
        request.Headers.Accept.ParseAdd("application/json, text/event-stream");
        using var response = await http.SendAsync(request);
        var after = await SessionAsync(tenant, "bot", caller.Bearer, [new { name = "fs/list_directory", arguments = new { path = "/workspace" } }]);

        Assert.Equal(System.Net.HttpStatusCode.BadRequest, response.StatusCode);
        Assert.False(after.GetProperty("results")[0].TryGetProperty("isError", out var e) && e.GetBoolean(), after.ToString());
    }

    /// <summary>Kills (SIGKILL) every process whose command line names <paramref name="text"/>; returns their ids.</summary>
    private static List<int> KillProcessesNaming(string text, bool dryRun = false)
    {
        var found = new List<int>();
        foreach (var directory in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(directory), out var pid))
            {
                continue;
            }

            try
            {
                if (File.ReadAllText(Path.Combine(directory, "cmdline")).Replace('\0', ' ').Contains(text, StringComparison.Ordinal))
                {
                    found.Add(pid);
                    if (!dryRun)
                    {
                        using var process = System.Diagnostics.Process.GetProcessById(pid);
                        process.Kill(entireProcessTree: true);
                    }
                }
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ArgumentException or InvalidOperationException)
            {
                // The process ended meanwhile.
            }
        }

        return found;
    }

    private static string TextOf(JsonElement result) =>
        string.Concat(result.GetProperty("content").EnumerateArray().Select(c => c.GetProperty("text").GetString()));
}

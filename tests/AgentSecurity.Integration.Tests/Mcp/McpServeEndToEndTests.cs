using System.Text.Json;
using AgentSecurity.Grants;
using AgentSecurity.Grants.Crypto;
using AgentSecurity.Grants.Documents;
using AgentSecurity.Integration.Tests.Infrastructure;
using AgentSecurity.Testing;

namespace AgentSecurity.Integration.Tests.Mcp;

/// <summary>
/// <c>agentsec mcp serve</c> as a user runs it: a real silo on Azurite over TLS, a v2 grant with two tools and a
/// file scope, the real filesystem MCP server as upstream, and the official TypeScript MCP client as the agent's host.
/// </summary>
[Collection(ClusterProcessCollection.Name)]
public sealed class McpServeEndToEndTests(ClusterProcessFixture cluster)
{
    private static readonly string NodeModules = Path.Combine(RepositoryPaths.Root, "mcp-servers", "node_modules");

    [Fact]
    public async Task McpServe_TypeScriptClient_SeesGrantedToolsReadsInScopeRefusedOutsideAndAudited()
    {
        var tenant = "mcp-" + Guid.NewGuid().ToString("N")[..10];
        using var root = SigningKey.Generate();
        await cluster.CreateTenantAsync(tenant, root.Did.Value);

        // The file server may serve the whole folder; the grant gives only public/.
        var folder = LocalRealPath(Directory.CreateDirectory(cluster.PathOf($"{tenant}-files")).FullName);
        Directory.CreateDirectory(Path.Combine(folder, "public"));
        var allowed = Path.Combine(folder, "public", "a.txt");
        var secret = Path.Combine(folder, "secret.txt");
        File.WriteAllText(allowed, "hello from the workspace\n");
        File.WriteAllText(secret, "not for the agent\n");

        // Signed here while `grant sign --tool` is built in parallel: the same v2 document it makes.
        var now = DateTimeOffset.UtcNow;
        var grant = new DocumentTemplate(DocumentTypes.GrantV2)
            .Set("grantId", "g-mcp")
            .Set("tenantId", tenant)
            .Set("agentId", "bot")
            .SetJson("capabilities", """{"fileSystem":"read","network":"none","memory":"none","subprocess":false,"vectorDb":false,"llm":false,"tools":["fs/read_text_file","fs/list_directory"]}""")
            .SetJson("scopes", JsonSerializer.Serialize(new { fileSystem = new[] { folder + "/public/**", folder + "/public" } }))
            .Set("environmentIsolation", "sandboxed")
            .Set("issuedAt", now.AddMinutes(-1))
            .Set("expiresAt", now.AddHours(1))
            .SignWith(root);
        var grantFile = cluster.PathOf($"{tenant}.grant.json");
        File.WriteAllText(grantFile, grant);
        await cluster.ApplyGrantFileAsync(grantFile);

        var filesystem = $"node '{Path.Combine(NodeModules, "@modelcontextprotocol", "server-filesystem", "dist", "index.js")}' '{folder}'";
        var run = await cluster.RunAsync("node",
        [
            Path.Combine(AppContext.BaseDirectory, "Mcp", "ts-client.mjs"), NodeModules, allowed, secret,
            "dotnet", BuiltArtifacts.Cli, "mcp", "serve", $"{tenant}/bot", "--upstream", "fs=" + filesystem,
        ]);

        Assert.True(run.ExitCode == 0, run.ToString());
        using var seen = JsonDocument.Parse(run.Stdout.Split('\n')[^1]);
        var result = seen.RootElement;
        Assert.Equal(["fs/list_directory", "fs/read_text_file"], result.GetProperty("tools").EnumerateArray().Select(t => t.GetString()));

        var inScope = result.GetProperty("inScope");
        Assert.False(inScope.TryGetProperty("isError", out var inScopeError) && inScopeError.GetBoolean(), inScope.ToString());
        Assert.Equal("hello from the workspace\n", TextOf(inScope));

        var outside = result.GetProperty("outsideScope");
        Assert.True(outside.GetProperty("isError").GetBoolean());
        Assert.StartsWith("out_of_scope: ", TextOf(outside), StringComparison.Ordinal);
        Assert.DoesNotContain("not for the agent", TextOf(outside), StringComparison.Ordinal);

        var hidden = result.GetProperty("hidden");
        Assert.True(hidden.GetProperty("isError").GetBoolean());
        Assert.StartsWith("out_of_scope: ", TextOf(hidden), StringComparison.Ordinal);
        Assert.Equal("hello from the workspace\n", File.ReadAllText(allowed));

        // Every decision is in the tenant's audit log: the allowed read, and the two refusals with their tools.
        var events = await AuditEventsAsync(tenant, e => e.Any(x => x.Type == "tool.called") && e.Count(x => x.Type == "tool.denied") >= 2);
        Assert.Contains(events, e => e is { Type: "tool.called", Server: "fs", Tool: "read_text_file" });
        Assert.Contains(events, e => e is { Type: "tool.denied", Tool: "read_text_file", Reason: ReasonCodes.OutOfScope } && e.Resource == secret);
        Assert.Contains(events, e => e is { Type: "tool.denied", Tool: "write_file", Reason: ReasonCodes.OutOfScope });
    }

    [Fact]
    public async Task McpServe_ToolNeedingApproval_RefusedWithItsRequestThenWritesOnceApproved()
    {
        var tenant = "mcpa-" + Guid.NewGuid().ToString("N")[..10];
        var rootKey = cluster.PathOf($"{tenant}-root.key");
        var root = (await cluster.AgentsecAsync("key", "new", "--out", rootKey, "--json")).Field("did");
        await cluster.CreateTenantAsync(tenant, root);
        var folder = LocalRealPath(Directory.CreateDirectory(cluster.PathOf($"{tenant}-files")).FullName);
        var report = Path.Combine(folder, "report.md");
        var grantFile = cluster.PathOf($"{tenant}.grant.json");
        var signed = await cluster.AgentsecAsync("grant", "sign", "--key", rootKey, "--tenant", tenant, "--agent", "bot",
            "--fs", "write", "--scope", $"fileSystem={folder}/**", "--tool", "fs/read_text_file", "--tool", "fs/write_file", "--approve", "fs/write_*",
            "--out", grantFile, "--json");
        Assert.True(signed.ExitCode == 0, signed.ToString());
        await cluster.ApplyGrantFileAsync(grantFile);
        var filesystem = $"node '{Path.Combine(NodeModules, "@modelcontextprotocol", "server-filesystem", "dist", "index.js")}' '{folder}'";
        var write = JsonSerializer.Serialize(new[] { new { name = "fs/write_file", arguments = new { path = report, content = "approved\n" } } });
        async Task<JsonElement> SessionAsync()
        {
            var run = await cluster.RunAsync("node",
            [
                Path.Combine(AppContext.BaseDirectory, "Mcp", "ts-calls.mjs"), NodeModules, write,
                "dotnet", BuiltArtifacts.Cli, "mcp", "serve", $"{tenant}/bot", "--upstream", "fs=" + filesystem,
            ]);
            Assert.True(run.ExitCode == 0, run.ToString());
            return JsonDocument.Parse(run.Stdout.Split('\n')[^1]).RootElement.Clone();
        }

        // The tool is shown (so that calling it can ask), and the call is refused naming the request that waits.
        var first = await SessionAsync();
        Assert.Contains("fs/write_file", first.GetProperty("tools").EnumerateArray().Select(t => t.GetString()));
        var refused = first.GetProperty("results")[0];
        Assert.True(refused.GetProperty("isError").GetBoolean());
        Assert.StartsWith("approval_required: ", TextOf(refused), StringComparison.Ordinal);
        Assert.False(File.Exists(report));
        var listed = await cluster.AgentsecAsync("requests", "list", tenant, "--json");
        var request = listed.Json.GetProperty("requests")[0];
        Assert.Equal(("tool:call", "fs/write_file"), (request.GetProperty("capability").GetString(), request.GetProperty("resource").GetString()));
        Assert.Contains(request.GetProperty("requestId").GetString()!, TextOf(refused), StringComparison.Ordinal);

        var approved = await cluster.AgentsecAsync("requests", "approve", tenant, request.GetProperty("requestId").GetString()!, "--key", rootKey, "--expires-in", "10m", "--json");
        Assert.True(approved.ExitCode == 0, approved.ToString());

        var second = await SessionAsync();
        var written = second.GetProperty("results")[0];
        Assert.False(written.TryGetProperty("isError", out var isError) && isError.GetBoolean(), written.ToString());
        Assert.Equal("approved\n", File.ReadAllText(report));
        var events = await AuditEventsAsync(tenant, e => e.Any(x => x.Type == "tool.called"));
        Assert.Contains(events, e => e is { Type: "tool.denied", Tool: "write_file", Reason: ReasonCodes.ApprovalRequired });
        Assert.Contains(events, e => e is { Type: "tool.called", Tool: "write_file" });
    }

    [Fact]
    public async Task McpServe_TreeAndSearchOverAFolderTheGrantDoesNotRead_ItsNamesWithheldByTheGrain()
    {
        var tenant = "mcpl-" + Guid.NewGuid().ToString("N")[..10];
        var rootKey = cluster.PathOf($"{tenant}-root.key");
        var root = (await cluster.AgentsecAsync("key", "new", "--out", rootKey, "--json")).Field("did");
        await cluster.CreateTenantAsync(tenant, root);
        var folder = LocalRealPath(Directory.CreateDirectory(cluster.PathOf($"{tenant}-files")).FullName);
        Directory.CreateDirectory(Path.Combine(folder, "public", "notes"));
        Directory.CreateDirectory(Path.Combine(folder, "private", "hr"));
        File.WriteAllText(Path.Combine(folder, "public", "notes", "plan.txt"), "p");
        File.WriteAllText(Path.Combine(folder, "private", "hr", "layoffs-2027.txt"), "s");
        // The folder itself (to list it) and everything in public/; private/ is only seen as a name in the folder.
        var grantFile = cluster.PathOf($"{tenant}.grant.json");
        var signed = await cluster.AgentsecAsync("grant", "sign", "--key", rootKey, "--tenant", tenant, "--agent", "bot", "--fs", "read",
            "--scope", $"fileSystem={folder}", "--scope", $"fileSystem={folder}/public", "--scope", $"fileSystem={folder}/public/**",
            "--tool", "fs/directory_tree", "--tool", "fs/search_files", "--out", grantFile, "--json");
        Assert.True(signed.ExitCode == 0, signed.ToString());
        await cluster.ApplyGrantFileAsync(grantFile);
        var filesystem = $"node '{Path.Combine(NodeModules, "@modelcontextprotocol", "server-filesystem", "dist", "index.js")}' '{folder}'";
        var calls = JsonSerializer.Serialize(new object[]
        {
            new { name = "fs/directory_tree", arguments = new { path = folder } },
            new { name = "fs/search_files", arguments = new { path = folder, pattern = "**/*.txt" } },
        });

        var run = await cluster.RunAsync("node",
        [
            Path.Combine(AppContext.BaseDirectory, "Mcp", "ts-calls.mjs"), NodeModules, calls,
            "dotnet", BuiltArtifacts.Cli, "mcp", "serve", $"{tenant}/bot", "--upstream", "fs=" + filesystem,
        ]);

        Assert.True(run.ExitCode == 0, run.ToString());
        var results = JsonDocument.Parse(run.Stdout.Split('\n')[^1]).RootElement.GetProperty("results");
        var tree = TextOf(results[0]);
        var found = TextOf(results[1]);
        Assert.Contains("plan.txt", tree, StringComparison.Ordinal);
        Assert.Contains("\"private\"", tree, StringComparison.Ordinal);
        Assert.DoesNotContain("\"hr\"", tree, StringComparison.Ordinal);
        Assert.DoesNotContain("layoffs", tree, StringComparison.Ordinal);
        Assert.Equal(Path.Combine(folder, "public", "notes", "plan.txt"), found);
        // Each call is recorded once, as the read of the folder it was given; what its answer showed is not a decision.
        var events = await AuditEventsAsync(tenant, e => e.Count(x => x.Type == "tool.called") >= 2);
        Assert.Equal(["directory_tree", "search_files"], events.Select(e => e.Tool).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task McpServe_StandardOutput_OnlyJsonRpcLogsOnStandardError()
    {
        // An agent without a grant: it sees no tools, which is enough to see what reaches standard output.
        var folder = Directory.CreateDirectory(cluster.PathOf("mcp-stdout-" + Guid.NewGuid().ToString("N")[..8])).FullName;
        var info = new System.Diagnostics.ProcessStartInfo("dotnet")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in (string[])[BuiltArtifacts.Cli, "mcp", "serve", "nobody/bot", "--upstream",
            $"fs=node '{Path.Combine(NodeModules, "@modelcontextprotocol", "server-filesystem", "dist", "index.js")}' '{folder}'"])
        {
            info.ArgumentList.Add(argument);
        }

        foreach (var (name, value) in cluster.CliEnvironment())
        {
            info.Environment[name] = value;
        }

        using var process = System.Diagnostics.Process.Start(info)!;
        var stderr = process.StandardError.ReadToEndAsync();
        await process.StandardInput.WriteLineAsync("""{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"raw","version":"1"}}}""");
        await process.StandardInput.WriteLineAsync("""{"jsonrpc":"2.0","method":"notifications/initialized"}""");
        // A line that is not JSON, and a call whose name is not a string: the session answers what it can and goes on.
        await process.StandardInput.WriteLineAsync("""this is not JSON-RPC""");
        await process.StandardInput.WriteLineAsync("""{"jsonrpc":"2.0","id":4,"method":"tools/call","params":{"name":5,"arguments":[]}}""");
        await process.StandardInput.WriteLineAsync("""{"jsonrpc":"2.0","id":2,"method":"tools/list"}""");
        await process.StandardInput.WriteLineAsync("""{"jsonrpc":"2.0","id":3,"method":"resources/list"}""");
        await process.StandardInput.FlushAsync();
        var lines = new List<string>();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        // Requests are answered concurrently, in any order: read until all answers are in.
        while (!new[] { 1, 2, 3, 4 }.All(id => lines.Any(l => l.Contains($"\"id\":{id},", StringComparison.Ordinal) || l.EndsWith($"\"id\":{id}}}", StringComparison.Ordinal)))
            && await process.StandardOutput.ReadLineAsync(timeout.Token) is { } line)
        {
            lines.Add(line);
        }

        process.StandardInput.Close();
        await process.WaitForExitAsync(timeout.Token);

        Assert.True(lines.Count >= 4, string.Join('\n', lines) + await stderr);
        Assert.All(lines, l => Assert.Equal("2.0", JsonDocument.Parse(l).RootElement.GetProperty("jsonrpc").GetString()));
        var list = JsonDocument.Parse(lines.Single(l => JsonDocument.Parse(l).RootElement.TryGetProperty("id", out var id) && id.ValueKind == JsonValueKind.Number && id.GetInt32() == 2)).RootElement;
        Assert.Equal(0, list.GetProperty("result").GetProperty("tools").GetArrayLength());
        // Only tools pass: resources are not offered, and asking for them is a JSON-RPC error.
        var resources = JsonDocument.Parse(lines.Single(l => JsonDocument.Parse(l).RootElement.TryGetProperty("id", out var id) && id.ValueKind == JsonValueKind.Number && id.GetInt32() == 3)).RootElement;
        Assert.True(resources.TryGetProperty("error", out _), resources.ToString());
        var malformed = JsonDocument.Parse(lines.Single(l => JsonDocument.Parse(l).RootElement.TryGetProperty("id", out var id) && id.ValueKind == JsonValueKind.Number && id.GetInt32() == 4)).RootElement;
        Assert.True(malformed.TryGetProperty("error", out _) || malformed.GetProperty("result").GetProperty("isError").GetBoolean(), malformed.ToString());
        Assert.Contains("Upstream fs started", await stderr, StringComparison.Ordinal);
    }

    private sealed record AuditedTool(string Type, string? Server, string? Tool, string? Reason, string? Resource);

    /// <summary>
    /// The tenant's tool events from <c>agentsec audit tail</c>, read again until <paramref name="complete"/> holds:
    /// allowed calls may reach the log a moment after the call returned (the grain publishes them in batches).
    /// </summary>
    private async Task<List<AuditedTool>> AuditEventsAsync(string tenant, Func<List<AuditedTool>, bool> complete)
    {
        var deadline = DateTimeOffset.UtcNow.AddSeconds(60);
        while (true)
        {
            var tail = await cluster.AgentsecAsync("audit", "tail", tenant, "--last", "200", "--json");
            Assert.True(tail.ExitCode == 0, tail.ToString());
            var events = tail.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries)
                .Select(line => JsonDocument.Parse(line).RootElement)
                .Where(e => e.GetProperty("type").GetString()!.StartsWith("tool.", StringComparison.Ordinal))
                .Select(e => new AuditedTool(e.GetProperty("type").GetString()!, Text(e, "server"), Text(e, "tool"), Text(e, "reason"), Text(e, "resource")))
                .ToList();
            if (complete(events) || DateTimeOffset.UtcNow > deadline)
            {
                return events;
            }
        }
    }

    private static string? Text(JsonElement e, string name) =>
        e.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    private static string TextOf(JsonElement result) =>
        string.Concat(result.GetProperty("content").EnumerateArray().Select(c => c.GetProperty("text").GetString()));

    /// <summary>The folder's path without links (the file server compares real paths with its root).</summary>
    private static string LocalRealPath(string path) => new DirectoryInfo(path).ResolveLinkTarget(returnFinalTarget: true)?.FullName ?? path;
}

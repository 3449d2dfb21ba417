using AgentSecurity.Mcp.Upstreams;
using System.Diagnostics;
using AgentSecurity.Abstractions;
using AgentSecurity.Grants;
using AgentSecurity.Grants.Tools;
using AgentSecurity.Mcp.Gateway;
using AgentSecurity.Mcp.Tests.Support;

namespace AgentSecurity.Mcp.Tests.Gateway;

/// <summary>
/// The gateway against the real npm servers (<c>@modelcontextprotocol/server-filesystem</c> and <c>server-everything</c>,
/// pinned in <c>mcp-servers/</c>), with a scripted gate (see <see cref="ScriptedToolGate"/> for why).
/// </summary>
public sealed class McpGatewayTests : IDisposable
{
    private readonly string _root;

    public McpGatewayTests()
    {
        // The server resolves its root's real path; compare with that, so a /tmp behind a link still matches.
        _root = Mcp.Arguments.LocalPaths.Resolve(Directory.CreateTempSubdirectory("agentsec-mcp-").FullName)!;
        File.WriteAllText(Path.Combine(_root, "a.txt"), "hello\n");
    }

    private ScriptedToolGate FsGate(params string[] tools) => new()
    {
        Granted = [.. tools.Select(t => "fs/" + t)],
        FileScope = _root + "/",
    };

    private McpGatewayOptions FsOptions() => new() { Upstreams = [NpmServers.Filesystem("fs", _root)] };

    [Fact]
    public async Task ListTools_GateShowsTwo_OnlyThoseListedWithServerPrefix()
    {
        var gate = FsGate("read_text_file", "list_directory");
        await using var harness = await GatewayHarness.StartAsync(FsOptions(), gate);

        var tools = await harness.Client.ListToolsAsync();

        Assert.Equal(["fs/list_directory", "fs/read_text_file"], tools.Select(t => t.Name).Order(StringComparer.Ordinal));
        var read = tools.Single(t => t.Name == "fs/read_text_file").ProtocolTool;
        Assert.True(read.InputSchema.GetProperty("properties").TryGetProperty("path", out _));
        Assert.NotNull(read.OutputSchema);
        Assert.NotNull(read.Annotations);
        // The gate was asked about every upstream tool, each with its definition's hash.
        var asked = gate.Listings.SelectMany(l => l).ToList();
        Assert.Contains(asked, l => l.Tool == "fs/write_file");
        Assert.All(asked, l => Assert.True(ToolDefinitionHash.IsHash(l.DefinitionHash), l.DefinitionHash));
    }

    [Fact]
    public async Task CallTool_InScopeRead_UpstreamContentAndCheckedPath()
    {
        var gate = FsGate("read_text_file");
        await using var harness = await GatewayHarness.StartAsync(FsOptions(), gate);
        var path = Path.Combine(_root, "a.txt");

        var result = await harness.CallAsync("fs/read_text_file", new { path });

        Assert.NotEqual(true, result.IsError);
        Assert.Equal("hello\n", GatewayHarness.Text(result));
        Assert.NotNull(result.StructuredContent);
        var call = Assert.Single(gate.Calls);
        Assert.Equal("fs/read_text_file", call.Tool);
        Assert.True(ToolDefinitionHash.IsHash(call.DefinitionHash));
        Assert.Equal([new CheckRequest(Capabilities.FileSystemRead, path)], call.Resources);
    }

    [Fact]
    public async Task CallTool_PathOutsideScope_RefusedWithCodeFirstAndArgument()
    {
        var gate = FsGate("read_text_file");
        await using var harness = await GatewayHarness.StartAsync(FsOptions(), gate);

        var result = await harness.CallAsync("fs/read_text_file", new { path = "/etc/passwd" });

        Assert.True(result.IsError);
        var text = GatewayHarness.Text(result);
        Assert.StartsWith("out_of_scope: ", text, StringComparison.Ordinal);
        Assert.Contains("argument /path", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CallTool_FilesystemServerLaunchedByAWrapper_RecognisedByItsNameAndPathsChecked()
    {
        // The command line does not show the server (a shell, as a container or script would): its serverInfo does.
        var server = NpmServers.Filesystem("fs", _root).Arguments[0];
        var wrapped = new UpstreamOptions
        {
            Name = "fs",
            Command = "/bin/sh",
            Arguments = ["-c", "exec node \"$SERVER\" \"$0\"", _root],
            Environment = { ["SERVER"] = server },
        };
        Assert.Same(Mcp.Arguments.ArgumentMap.Empty, wrapped.EffectiveArgumentMap);
        await using var harness = await GatewayHarness.StartAsync(new McpGatewayOptions { Upstreams = [wrapped] }, FsGate("read_text_file"));

        var outside = await harness.CallAsync("fs/read_text_file", new { path = "/etc/passwd" });
        var inside = await harness.CallAsync("fs/read_text_file", new { path = Path.Combine(_root, "a.txt") });

        Assert.StartsWith("out_of_scope: ", GatewayHarness.Text(outside), StringComparison.Ordinal);
        Assert.Equal("hello\n", GatewayHarness.Text(inside));
    }

    [Fact]
    public async Task CallTool_HiddenToolByName_DecidedByGateAndRefused_NothingWritten()
    {
        var gate = FsGate("read_text_file");
        await using var harness = await GatewayHarness.StartAsync(FsOptions(), gate);
        var path = Path.Combine(_root, "b.txt");

        var result = await harness.CallAsync("fs/write_file", new { path, content = "x" });

        Assert.StartsWith("capability_not_granted: ", GatewayHarness.Text(result), StringComparison.Ordinal);
        Assert.Equal([new CheckRequest(Capabilities.FileSystemWrite, path, 1)], Assert.Single(gate.Calls).Resources);
        Assert.False(File.Exists(path));
    }

    [Theory]
    [InlineData("fs/a/b")]
    [InlineData("fs/*")]
    [InlineData("fs/read\0file")]
    [InlineData("read_text_file")]
    [InlineData("fs/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa")]
    public async Task CallTool_NameNotServerSlashTool_InvalidResourceWithoutAskingGate(string name)
    {
        var gate = FsGate("read_text_file");
        await using var harness = await GatewayHarness.StartAsync(FsOptions(), gate);

        var result = await harness.CallAsync(name, new { path = Path.Combine(_root, "a.txt") });

        Assert.StartsWith("invalid_resource: ", GatewayHarness.Text(result), StringComparison.Ordinal);
        Assert.Empty(gate.Calls);
    }

    [Fact]
    public async Task CallTool_MappedArgumentNotAString_InvalidRequestNotForwarded()
    {
        var gate = FsGate("read_text_file");
        await using var harness = await GatewayHarness.StartAsync(FsOptions(), gate);

        var result = await harness.CallAsync("fs/read_text_file", new { path = new[] { "/etc/passwd" } });

        Assert.StartsWith("invalid_request: ", GatewayHarness.Text(result), StringComparison.Ordinal);
        Assert.Empty(gate.Calls);
    }

    [Fact]
    public async Task CallTool_SymlinkInScopeToOutside_ResolvedPathCheckedAndRefused()
    {
        var outside = Directory.CreateTempSubdirectory("agentsec-mcp-outside-").FullName;
        try
        {
            File.WriteAllText(Path.Combine(outside, "secret.txt"), "secret");
            Directory.CreateSymbolicLink(Path.Combine(_root, "link"), outside);
            var gate = FsGate("read_text_file");
            await using var harness = await GatewayHarness.StartAsync(FsOptions(), gate);

            var result = await harness.CallAsync("fs/read_text_file", new { path = Path.Combine(_root, "link", "secret.txt") });

            var text = GatewayHarness.Text(result);
            Assert.StartsWith("out_of_scope: ", text, StringComparison.Ordinal);
            Assert.Contains("/path (resolved)", text, StringComparison.Ordinal);
            Assert.DoesNotContain("secret\n", text, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(outside, recursive: true);
        }
    }

    [Theory]
    [InlineData("Keys", "\u212Aeys")]        // K written as the Kelvin sign: NFC makes it K
    [InlineData("\u212Aeys", "Keys")]        // the link's name is the Kelvin sign, the call's ASCII
    [InlineData("caf\u00e9", "cafe\u0301")] // é composed on disk, decomposed in the call
    [InlineData("cafe\u0301", "caf\u00e9")] // and the other way round
    public async Task CallTool_UnicodeEquivalentSpellingOfALinkToOutsideTheScope_Refused(string link, string written)
    {
        // Inside the server's root but outside the "grant": the server finds a name by its NFC form and follows the link.
        var secret = Directory.CreateDirectory(Path.Combine(_root, "secret")).FullName;
        File.WriteAllText(Path.Combine(secret, "s.txt"), "TOPSECRET");
        var scope = Directory.CreateDirectory(Path.Combine(_root, "public")).FullName;
        Directory.CreateSymbolicLink(Path.Combine(scope, link), secret);
        var gate = new ScriptedToolGate { Granted = ["fs/read_text_file"], FileScope = scope + "/" };
        await using var harness = await GatewayHarness.StartAsync(FsOptions(), gate);

        var result = await harness.CallAsync("fs/read_text_file", new { path = Path.Combine(scope, written, "s.txt") });

        // The server would find the link by the name's NFC form; this process cannot normalize, so it refuses.
        var text = GatewayHarness.Text(result);
        Assert.True(result.IsError);
        Assert.StartsWith("invalid_resource: argument /path", text, StringComparison.Ordinal);
        Assert.DoesNotContain("TOPSECRET", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CallTool_UnicodeNameThatExistsAsWritten_IsReadAsUsual()
    {
        var scope = Directory.CreateDirectory(Path.Combine(_root, "public")).FullName;
        File.WriteAllText(Path.Combine(scope, "caf\u00e9.txt"), "menu\n");
        await using var harness = await GatewayHarness.StartAsync(FsOptions(), new ScriptedToolGate { Granted = ["fs/read_text_file"], FileScope = scope + "/" });

        var result = await harness.CallAsync("fs/read_text_file", new { path = Path.Combine(scope, "caf\u00e9.txt") });

        Assert.Equal("menu\n", GatewayHarness.Text(result));
    }

    [Fact]
    public async Task CallTool_ResultOverCap_OutputLimitNotTruncated()
    {
        File.WriteAllText(Path.Combine(_root, "big.txt"), new string('x', 200_000) + "\n");
        var options = FsOptions();
        options.MaxResultBytes = 64 * 1024;
        await using var harness = await GatewayHarness.StartAsync(options, FsGate("read_text_file"));

        var result = await harness.CallAsync("fs/read_text_file", new { path = Path.Combine(_root, "big.txt") });

        Assert.True(result.IsError);
        Assert.StartsWith("output_limit: ", GatewayHarness.Text(result), StringComparison.Ordinal);
        Assert.Single(result.Content);
    }

    [Fact]
    public async Task CallTool_UpstreamWritesLineOverBound_OutputLimitThenRestartedForNextCall()
    {
        File.WriteAllText(Path.Combine(_root, "huge.txt"), new string('y', 2_000_000));
        var options = FsOptions();
        options.MaxResultBytes = 64 * 1024;
        options.MaxLineBytes = 256 * 1024;
        await using var harness = await GatewayHarness.StartAsync(options, FsGate("read_text_file"));
        var firstProcess = harness.Gateway.UpstreamProcessId("fs");

        var flood = await harness.CallAsync("fs/read_text_file", new { path = Path.Combine(_root, "huge.txt") });
        var after = await harness.CallAsync("fs/read_text_file", new { path = Path.Combine(_root, "a.txt") });

        Assert.StartsWith("output_limit: upstream fs wrote a line over 262144 bytes", GatewayHarness.Text(flood), StringComparison.Ordinal);
        Assert.Equal("hello\n", GatewayHarness.Text(after));
        Assert.NotEqual(firstProcess, harness.Gateway.UpstreamProcessId("fs"));
    }

    [Fact]
    public async Task CallTool_UpstreamCrashesDuringCall_UnavailableWithExitThenRestarted()
    {
        var gate = FsGate("read_text_file");
        await using var harness = await GatewayHarness.StartAsync(FsOptions(), gate);
        var pid = harness.Gateway.UpstreamProcessId("fs")!.Value;
        // Crash the upstream after the call was decided and before it is forwarded: a crash mid-session, deterministic.
        gate.OnCheck = _ =>
        {
            gate.OnCheck = null;
            using var process = Process.GetProcessById(pid);
            process.Kill();
            process.WaitForExit();
        };

        var crashed = await harness.CallAsync("fs/read_text_file", new { path = Path.Combine(_root, "a.txt") });
        var after = await harness.CallAsync("fs/read_text_file", new { path = Path.Combine(_root, "a.txt") });

        Assert.StartsWith("unavailable: upstream fs exited (code ", GatewayHarness.Text(crashed), StringComparison.Ordinal);
        Assert.Equal("hello\n", GatewayHarness.Text(after));
    }

    [Fact]
    public async Task Upstreams_OneIsNotAnMcpServer_ItsToolsAbsentCallsUnavailableOthersWork()
    {
        // server-everything with an unknown transport prints its usage on stdout and exits 1: a program that is no MCP server.
        var options = new McpGatewayOptions { Upstreams = [NpmServers.Everything("bad", "--help"), NpmServers.Filesystem("fs", _root)] };
        var gate = new ScriptedToolGate { FileScope = _root + "/" };
        await using var harness = await GatewayHarness.StartAsync(options, gate);

        var names = await harness.ToolNamesAsync();
        var bad = await harness.CallAsync("bad/echo", new { message = "hi" });
        var good = await harness.CallAsync("fs/read_text_file", new { path = Path.Combine(_root, "a.txt") });

        Assert.Contains("fs/read_text_file", names);
        Assert.DoesNotContain(names, n => n.StartsWith("bad/", StringComparison.Ordinal));
        var text = GatewayHarness.Text(bad);
        Assert.StartsWith("unavailable: upstream bad is unavailable: ", text, StringComparison.Ordinal);
        Assert.Contains("not an MCP server", text, StringComparison.Ordinal);
        Assert.Equal("hello\n", GatewayHarness.Text(good));
    }

    [Fact]
    public async Task CallTool_GetEnv_GatewayEnvironmentNotLeakedConfiguredPassed()
    {
        const string secret = "agentsec-test-secret-4f1c";
        Environment.SetEnvironmentVariable("AGENTSEC_KEY", secret);
        var everything = NpmServers.Everything("ev");
        everything.Environment["MCP_TEST_CONFIGURED"] = "configured-value";
        await using var harness = await GatewayHarness.StartAsync(new McpGatewayOptions { Upstreams = [everything] }, new ScriptedToolGate());

        var text = GatewayHarness.Text(await harness.CallAsync("ev/get-env"));

        Assert.Contains("configured-value", text, StringComparison.Ordinal);
        Assert.Contains("PATH", text, StringComparison.Ordinal);
        Assert.DoesNotContain(secret, text, StringComparison.Ordinal);
        Assert.DoesNotContain("AGENTSEC_KEY", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CallTool_UpstreamSlowerThanTimeout_Timeout()
    {
        var options = new McpGatewayOptions { Upstreams = [NpmServers.Everything("ev")], CallTimeout = TimeSpan.FromSeconds(1) };
        await using var harness = await GatewayHarness.StartAsync(options, new ScriptedToolGate());

        var result = await harness.CallAsync("ev/trigger-long-running-operation", new { duration = 30, steps = 2 });

        Assert.StartsWith("timeout: upstream ev did not answer trigger-long-running-operation within 1 s", GatewayHarness.Text(result), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ListChanged_DefinitionChangesMidSession_RecordedOnceHiddenRefusedClientNotified()
    {
        var gate = new ScriptedToolGate();
        await using var harness = await GatewayHarness.StartAsync(new McpGatewayOptions { Upstreams = [NpmServers.Changing("ch")] }, gate);
        Assert.Equal(["ch/greet", "ch/mutate"], await harness.ToolNamesAsync());
        Assert.Equal("hello", GatewayHarness.Text(await harness.CallAsync("ch/greet")));

        await harness.CallAsync("ch/mutate");
        var (before, after) = await gate.Changed.Task.WaitAsync(TimeSpan.FromSeconds(30));
        await harness.ListChanged.Task.WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(("ch/greet", "ch/greet"), (before.Tool, after.Tool));
        Assert.NotEqual(before.DefinitionHash, after.DefinitionHash);
        Assert.Equal(["ch/mutate"], await harness.ToolNamesAsync());
        Assert.StartsWith("tool_changed: ", GatewayHarness.Text(await harness.CallAsync("ch/greet")), StringComparison.Ordinal);
    }

    public void Dispose() => Directory.Delete(_root, recursive: true);
}

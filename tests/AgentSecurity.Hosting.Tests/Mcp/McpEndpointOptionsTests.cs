using AgentSecurity.Hosting.Mcp;
using AgentSecurity.Mcp.Arguments;

namespace AgentSecurity.Hosting.Tests.Mcp;

public sealed class McpEndpointOptionsTests
{
    private static McpServerConfig FileServer() => new()
    {
        Command = "/usr/bin/node",
        Arguments = ["--jitless", "--max-old-space-size=128", "--max-semi-space-size=4", "/opt/mcp/node_modules/@modelcontextprotocol/server-filesystem/dist/index.js", "/workspace"],
        ReadOnlyBinds = [new McpBindConfig { HostPath = "/srv/mcp/node_modules", SandboxPath = "/opt/mcp/node_modules" }],
    };

    private static IReadOnlyList<string> Problems(McpEndpointOptions options)
    {
        var result = new McpEndpointOptionsValidator().Validate(null, options);
        return result.Failed ? [.. result.Failures] : [];
    }

    [Fact]
    public void Validate_NoServers_Succeeds() => Assert.Empty(Problems(new McpEndpointOptions()));

    [Fact]
    public void Validate_NodeFileServer_Succeeds() =>
        Assert.Empty(Problems(new McpEndpointOptions { Servers = { ["fs"] = FileServer() } }));

    [Theory]
    [InlineData("https://mcp.example.com/mcp")]
    [InlineData("http://127.0.0.1:3001/mcp")]
    [InlineData("http://localhost:3001/mcp")]
    [InlineData("http://[::1]:3001/mcp")]
    public void Validate_UrlUpstream_Succeeds(string url) =>
        Assert.Empty(Problems(new McpEndpointOptions { Servers = { ["remote"] = new McpServerConfig { Url = new Uri(url), Headers = { ["Authorization"] = "Bearer t" } } } }));

    [Theory]
    [InlineData("http://mcp.example.com/mcp", "https")]
    [InlineData("ftp://127.0.0.1/mcp", "https")]
    [InlineData("https://user:secret@mcp.example.com/mcp", "user or password")]
    [InlineData("https://mcp.example.com/mcp#x", "fragment")]
    public void Validate_UnsafeUrl_Fails(string url, string problem)
    {
        var problems = Problems(new McpEndpointOptions { Servers = { ["remote"] = new McpServerConfig { Url = new Uri(url) } } });

        Assert.Contains(problems, p => p.StartsWith("AgentSecurity:Mcp:Servers:remote: ", StringComparison.Ordinal) && p.Contains(problem, StringComparison.Ordinal));
    }

    [Fact]
    public void Validate_UrlAndCommand_Fails()
    {
        var server = FileServer();
        server.Url = new Uri("https://mcp.example.com/mcp");

        Assert.Contains(Problems(new McpEndpointOptions { Servers = { ["fs"] = server } }), p => p.Contains("not both", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("Mcp-Session-Id", "x", "set by the gateway")]
    [InlineData("host", "evil", "set by the gateway")]
    [InlineData("Bad Name", "x", "not an HTTP token")]
    [InlineData("", "x", "not an HTTP token")]
    [InlineData("X-Token", "a\r\nInjected: 1", "line break")]
    [InlineData("mcp-method", "tools/call", "set by the gateway")]
    [InlineData("Content-Encoding", "gzip", "not a request header")]
    public void Validate_BadHeader_Fails(string name, string value, string problem)
    {
        var server = new McpServerConfig { Url = new Uri("https://mcp.example.com/mcp"), Headers = { [name] = value } };

        Assert.Contains(Problems(new McpEndpointOptions { Servers = { ["remote"] = server } }), p => p.Contains(problem, StringComparison.Ordinal));
    }

    [Fact]
    public void Validate_UrlWithCommandSettings_Fails()
    {
        var server = new McpServerConfig { Url = new Uri("https://mcp.example.com/mcp"), Arguments = ["--x"] };

        Assert.Contains(Problems(new McpEndpointOptions { Servers = { ["remote"] = server } }), p => p.Contains("are for a command", StringComparison.Ordinal));
    }

    [Fact]
    public void Validate_HeadersWithoutUrl_Fails()
    {
        var server = FileServer();
        server.Headers["Authorization"] = "Bearer t";

        Assert.Contains(Problems(new McpEndpointOptions { Servers = { ["fs"] = server } }), p => p.Contains("Headers are for a URL upstream", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("node")]
    [InlineData("/usr/bin/../bin/node")]
    [InlineData("")]
    public void Validate_CommandNotAnAbsoluteSandboxPath_Fails(string command)
    {
        var server = FileServer();
        server.Command = command;

        Assert.Contains(Problems(new McpEndpointOptions { Servers = { ["fs"] = server } }), p => p.Contains("Command", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("/workspace/x")]
    [InlineData("/usr/lib/x")]
    [InlineData("/")]
    public void Validate_BindOverAPlaceTheSandboxMakes_Fails(string sandboxPath)
    {
        var server = FileServer();
        server.ReadOnlyBinds[0].SandboxPath = sandboxPath;

        Assert.NotEmpty(Problems(new McpEndpointOptions { Servers = { ["fs"] = server } }));
    }

    [Theory]
    [InlineData("a/b")]
    [InlineData("-fs")]
    public void Validate_ServerNameThatIsNoToolName_Fails(string name) =>
        Assert.NotEmpty(Problems(new McpEndpointOptions { Servers = { [name] = FileServer() } }));

    [Fact]
    public void Validate_UnknownArgumentMap_Fails()
    {
        var server = FileServer();
        server.ArgumentMap = "everything";

        Assert.Contains(Problems(new McpEndpointOptions { Servers = { ["fs"] = server } }), p => p.Contains("ArgumentMap", StringComparison.Ordinal));
    }

    [Fact]
    public void ToUpstream_NodeWithFlagsBeforeTheFileServer_IsTheFilesystemMap() =>
        Assert.Same(ArgumentMap.Filesystem, FileServer().ToUpstream("fs").EffectiveArgumentMap);

    [Fact]
    public void ToUpstream_None_IsEmpty()
    {
        var server = FileServer();
        server.ArgumentMap = "none";

        Assert.Same(ArgumentMap.Empty, server.ToUpstream("fs").EffectiveArgumentMap);
    }

    [Fact]
    public void ToUpstream_Url_IsNotLocalAndCarriesItsHeaders()
    {
        var upstream = new McpServerConfig { Url = new Uri("https://mcp.example.com/mcp"), Headers = { ["Authorization"] = "Bearer t" } }.ToUpstream("remote");

        Assert.Equal(("remote", new Uri("https://mcp.example.com/mcp"), "Bearer t", false), (upstream.Name, upstream.Url, upstream.Headers["authorization"], upstream.IsLocal));
        Assert.Null(upstream.ArgumentMap);
    }
}

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

    [Fact]
    public void Validate_UrlUpstream_FailsAsNotSupportedYet()
    {
        var problems = Problems(new McpEndpointOptions { Servers = { ["remote"] = new McpServerConfig { Url = new Uri("https://mcp.example.com/") } } });

        Assert.Contains(problems, p => p.Contains("not supported yet", StringComparison.Ordinal));
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
    public void EffectiveArgumentMap_NodeWithFlagsBeforeTheFileServer_IsTheFilesystemMap() =>
        Assert.Same(ArgumentMap.Filesystem, FileServer().EffectiveArgumentMap);

    [Fact]
    public void EffectiveArgumentMap_None_IsEmpty()
    {
        var server = FileServer();
        server.ArgumentMap = "none";

        Assert.Same(ArgumentMap.Empty, server.EffectiveArgumentMap);
    }
}

using System.Text.Json;
using AgentSecurity.Grants.Tools;
using AgentSecurity.Testing;

namespace AgentSecurity.Cli.Tests;

/// <summary><c>agentsec mcp serve</c> and <c>mcp pins</c>: what is refused before anything starts, and pins of a real server.</summary>
public sealed class McpCommandTests : IDisposable
{
    private readonly CliHarness _cli = new();

    private static string FilesystemServer(string root) =>
        $"node '{Path.Combine(RepositoryPaths.Root, "mcp-servers", "node_modules", "@modelcontextprotocol", "server-filesystem", "dist", "index.js")}' '{root}'";

    public void Dispose() => _cli.Dispose();

    [Theory]
    [InlineData("a/b=node x")]
    [InlineData("=node x")]
    [InlineData("fs")]
    [InlineData("fs=")]
    [InlineData("fs=node 'unclosed")]
    [InlineData("f*s=node x")]
    public async Task McpServe_InvalidUpstream_UsageErrorBeforeConnecting(string upstream)
    {
        var (exit, json) = await _cli.JsonAsync("mcp", "serve", "acme/bot", "--upstream", upstream);

        Assert.Equal(2, exit);
        Assert.Equal("usage", json.GetProperty("error").GetString());
    }

    [Fact]
    public async Task McpServe_DuplicateUpstreamName_UsageError()
    {
        var (exit, json) = await _cli.JsonAsync("mcp", "serve", "acme/bot", "--upstream", "fs=node a", "--upstream", "fs=node b");

        Assert.Equal(2, exit);
        Assert.Contains("twice", json.GetProperty("message").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task McpServe_AgentNotTenantSlashAgent_UsageError()
    {
        var (exit, _) = await _cli.JsonAsync("mcp", "serve", "acme", "--upstream", "fs=node a");

        Assert.Equal(2, exit);
    }

    [Fact]
    public async Task McpPins_UnknownMap_UsageError()
    {
        var (exit, _) = await _cli.JsonAsync("mcp", "pins", "--upstream", "fs=node a", "--map", "fs=github");

        Assert.Equal(2, exit);
    }

    [Fact]
    public async Task McpPins_FilesystemServer_OneJsonLinePerToolWithItsHash()
    {
        var (exit, output, error) = await _cli.RunAsync("mcp", "pins", "--upstream", "fs=" + FilesystemServer(_cli.Directory));

        Assert.True(exit == 0, error);
        var pins = output.Split('\n').Select(line => JsonDocument.Parse(line).RootElement).ToList();
        Assert.Contains(pins, p => p.GetProperty("tool").GetString() == "fs/read_text_file");
        Assert.All(pins, p => Assert.True(ToolDefinitionHash.IsHash(p.GetProperty("pin").GetString()), p.ToString()));
        Assert.Equal(pins.Count, pins.Select(p => p.GetProperty("tool").GetString()).Distinct().Count());
    }

    [Fact]
    public async Task McpPins_UpstreamNotAnMcpServer_Exit3NamingIt()
    {
        var (exit, _, error) = await _cli.RunAsync("mcp", "pins", "--upstream", "bad=node -e \"console.log('hello')\"");

        Assert.Equal(3, exit);
        Assert.Contains("upstream bad", error, StringComparison.Ordinal);
    }
}

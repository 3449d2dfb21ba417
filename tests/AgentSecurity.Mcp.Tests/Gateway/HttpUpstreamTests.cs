using AgentSecurity.Mcp.Gateway;
using AgentSecurity.Mcp.Tests.Support;

namespace AgentSecurity.Mcp.Tests.Gateway;

/// <summary>
/// Upstreams given by URL, over Streamable HTTP: the real <c>server-everything</c> in its HTTP mode, and a small flooding
/// server for answers without end (which no real server sends on purpose).
/// </summary>
public sealed class HttpUpstreamTests
{
    [Fact]
    public async Task ListAndCall_UrlUpstream_ToolsUnderItsNameAndCallForwardedAfterTheCheck()
    {
        await using var server = await HttpServer.EverythingAsync();
        var gate = new ScriptedToolGate { Granted = ["ev/echo"] };
        await using var harness = await GatewayHarness.StartAsync(new McpGatewayOptions { Upstreams = [server.Upstream("ev")] }, gate);

        var names = await harness.ToolNamesAsync();
        var echoed = await harness.CallAsync("ev/echo", new { message = "over http" });
        var refused = await harness.CallAsync("ev/get-sum", new { a = 1, b = 2 });

        Assert.Equal(["ev/echo"], names);
        Assert.Equal("Echo: over http", GatewayHarness.Text(echoed));
        Assert.StartsWith("capability_not_granted: ", GatewayHarness.Text(refused), StringComparison.Ordinal);
        Assert.Equal(["ev/echo", "ev/get-sum"], gate.Calls.Select(c => c.Tool));
    }

    [Fact]
    public async Task CallTool_UrlUpstreamGoneThenBack_UnavailableThenANewSession()
    {
        var server = await HttpServer.EverythingAsync();
        var port = server.Url.Port;
        await using var harness = await GatewayHarness.StartAsync(new McpGatewayOptions { Upstreams = [server.Upstream("ev")] }, new ScriptedToolGate());
        Assert.Equal("Echo: before", GatewayHarness.Text(await harness.CallAsync("ev/echo", new { message = "before" })));

        await server.DisposeAsync();
        var gone = await harness.CallAsync("ev/echo", new { message = "gone" });
        await using var back = await HttpServer.EverythingAsync(port);
        var after = await harness.CallAsync("ev/echo", new { message = "after" });

        Assert.True(gone.IsError);
        Assert.StartsWith("unavailable: upstream ev ", GatewayHarness.Text(gone), StringComparison.Ordinal);
        Assert.Equal("Echo: after", GatewayHarness.Text(after));
    }

    [Fact]
    public async Task Upstreams_UrlWhereNothingListens_ItsToolsAbsentCallsUnavailableOthersWork()
    {
        await using var server = await HttpServer.EverythingAsync();
        await using var nothing = await HttpServer.EverythingAsync();
        var closed = nothing.Upstream("closed");
        nothing.Stop();
        var options = new McpGatewayOptions { Upstreams = [closed, server.Upstream("ev")], InitializationTimeout = TimeSpan.FromSeconds(5) };
        await using var harness = await GatewayHarness.StartAsync(options, new ScriptedToolGate());

        var names = await harness.ToolNamesAsync();
        var refused = GatewayHarness.Text(await harness.CallAsync("closed/echo", new { message = "hi" }));

        Assert.Contains("ev/echo", names);
        Assert.DoesNotContain(names, n => n.StartsWith("closed/", StringComparison.Ordinal));
        Assert.StartsWith("unavailable: upstream closed is unavailable: ", refused, StringComparison.Ordinal);
        Assert.Contains("is not an MCP server over Streamable HTTP", refused, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("flood_events")]
    [InlineData("flood_json")]
    public async Task CallTool_UrlUpstreamAnswersWithoutEnd_OutputLimitAndTheGatewayServesOn(string tool)
    {
        await using var flooding = await HttpServer.FloodingAsync();
        var options = new McpGatewayOptions { Upstreams = [flooding.Upstream("flood")], MaxResultBytes = 64 * 1024, MaxLineBytes = 256 * 1024 };
        await using var harness = await GatewayHarness.StartAsync(options, new ScriptedToolGate());

        var flood = await harness.CallAsync($"flood/{tool}");
        var after = await harness.CallAsync("flood/whoami");

        Assert.StartsWith("output_limit: upstream flood sent a message over 262144 bytes", GatewayHarness.Text(flood), StringComparison.Ordinal);
        Assert.Equal("undefined", GatewayHarness.Text(after)); // whoami, sent no Authorization: a new session answered
    }

    [Fact]
    public async Task CallTool_UrlUpstreamWithHeaders_SentWithEveryRequestWithoutThemRefused()
    {
        await using var flooding = await HttpServer.FloodingAsync("s3cret");
        var with = flooding.Upstream("with");
        with.Headers["Authorization"] = "Bearer s3cret";
        var options = new McpGatewayOptions { Upstreams = [with, flooding.Upstream("without")], InitializationTimeout = TimeSpan.FromSeconds(5) };
        await using var harness = await GatewayHarness.StartAsync(options, new ScriptedToolGate());

        var seen = await harness.CallAsync("with/whoami");
        var refused = await harness.CallAsync("without/whoami");

        Assert.Equal("Bearer s3cret", GatewayHarness.Text(seen));
        Assert.StartsWith("unavailable: upstream without is unavailable: ", GatewayHarness.Text(refused), StringComparison.Ordinal);
    }

    [Fact]
    public async Task CallTool_KillSwitchPulledWhileAUrlCallWaits_CutOffAndNoNewSession()
    {
        await using var flooding = await HttpServer.FloodingAsync();
        using var kill = new CancellationTokenSource();
        var gate = new ScriptedToolGate { OnCheck = call => { if (call.Tool == "flood/hang") { kill.CancelAfter(TimeSpan.FromMilliseconds(200)); } } };
        await using var harness = await GatewayHarness.StartAsync(new McpGatewayOptions { Upstreams = [flooding.Upstream("flood")], CallTimeout = TimeSpan.FromMinutes(5) }, gate, kill.Token);

        // The call timeout is five minutes: only the kill switch can end this call within the harness's 90 s.
        var cut = await harness.CallAsync("flood/hang");
        var after = await harness.CallAsync("flood/whoami");

        Assert.StartsWith("unavailable: upstream flood ", GatewayHarness.Text(cut), StringComparison.Ordinal);
        Assert.Equal("unavailable: upstream flood is unavailable: the agent's servers were stopped", GatewayHarness.Text(after));
    }

    [Fact]
    public async Task Dispose_UrlUpstreamNeverAnswersTheSessionsEnd_GatewayStopsWithinTheRequestDeadline()
    {
        await using var flooding = await HttpServer.FloodingAsync(hangDelete: true);
        var options = new McpGatewayOptions { Upstreams = [flooding.Upstream("flood")], CallTimeout = TimeSpan.FromSeconds(3), InitializationTimeout = TimeSpan.FromSeconds(3) };
        var harness = await GatewayHarness.StartAsync(options, new ScriptedToolGate());
        Assert.Equal("undefined", GatewayHarness.Text(await harness.CallAsync("flood/whoami")));

        // Without a deadline on the DELETE this would never complete.
        await harness.DisposeAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(60));
    }

    [Fact]
    public async Task Session_UrlUpstream_OpensNoStandaloneEventStream()
    {
        await using var flooding = await HttpServer.FloodingAsync();
        await using var harness = await GatewayHarness.StartAsync(new McpGatewayOptions { Upstreams = [flooding.Upstream("flood")] }, new ScriptedToolGate());

        var requests = System.Text.Json.JsonDocument.Parse(GatewayHarness.Text(await harness.CallAsync("flood/requests"))).RootElement;

        Assert.False(requests.TryGetProperty("GET", out _), requests.ToString());
        Assert.True(requests.GetProperty("POST").GetInt32() >= 3, requests.ToString());
    }
}

using System.Globalization;
using AgentSecurity.Mcp.Upstreams;
using AgentSecurity.Testing;

namespace AgentSecurity.Mcp.Tests.Support;

/// <summary>
/// An MCP server over Streamable HTTP on a loopback port, run by node for a test: the real <c>server-everything</c> in
/// its <c>streamableHttp</c> mode, or the small flooding server (see flooding-http-server.mjs). Both print
/// "listening on port N" once they accept connections.
/// </summary>
internal sealed class HttpServer : IAsyncDisposable
{
    private readonly ChildProcess _process;

    private HttpServer(ChildProcess process, int port)
    {
        _process = process;
        Url = new Uri($"http://127.0.0.1:{port}/mcp");
    }

    public Uri Url { get; }

    public UpstreamOptions Upstream(string name) => new() { Name = name, Url = Url };

    /// <summary>server-everything on <paramref name="port"/> (a free one by default).</summary>
    public static Task<HttpServer> EverythingAsync(int? port = null) =>
        StartAsync(port ?? FreePorts.Next(), Path.Combine(NpmServers.NodeModules, "@modelcontextprotocol", "server-everything", "dist", "index.js"), "streamableHttp");

    /// <summary>
    /// The flooding server; with <paramref name="token"/> it wants <c>Authorization: Bearer token</c>; with
    /// <paramref name="hangDelete"/> it never answers the DELETE that ends a session.
    /// </summary>
    public static Task<HttpServer> FloodingAsync(string? token = null, bool hangDelete = false) =>
        StartAsync(FreePorts.Next(), Path.Combine(AppContext.BaseDirectory, "Upstreams", "flooding-http-server.mjs"), token ?? string.Empty, hangDelete);

    private static async Task<HttpServer> StartAsync(int port, string script, string argument, bool hangDelete = false)
    {
        var environment = new Dictionary<string, string> { ["PORT"] = port.ToString(CultureInfo.InvariantCulture), ["HANG_DELETE"] = hangDelete ? "1" : "0" };
        var process = ChildProcess.Start("node", [script, argument], environment);
        try
        {
            await process.WaitForOutputAsync($"listening on port {port}", TimeSpan.FromSeconds(60));
        }
        catch
        {
            process.Dispose();
            throw;
        }

        return new HttpServer(process, port);
    }

    /// <summary>Kills the server (SIGKILL: a crash) and waits until it is gone.</summary>
    public void Stop() => _process.Kill();

    public ValueTask DisposeAsync()
    {
        _process.Dispose();
        return ValueTask.CompletedTask;
    }
}

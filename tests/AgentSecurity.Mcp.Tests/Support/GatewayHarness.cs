using System.IO.Pipelines;
using AgentSecurity.Mcp.Gateway;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;

namespace AgentSecurity.Mcp.Tests.Support;

/// <summary>A gateway serving one MCP client (the C# SDK's) over in-memory pipes, as <c>mcp serve</c> serves one over stdio.</summary>
internal sealed class GatewayHarness : IAsyncDisposable
{
    private readonly CancellationTokenSource _stop;
    private readonly Task _serving;

    private GatewayHarness(McpGateway gateway, McpClient client, Task serving, TaskCompletionSource listChanged, CancellationTokenSource stop)
    {
        _stop = stop;
        Gateway = gateway;
        Client = client;
        _serving = serving;
        ListChanged = listChanged;
    }

    public McpGateway Gateway { get; }

    public McpClient Client { get; }

    /// <summary>Completes when the gateway tells the client its tool list changed.</summary>
    public TaskCompletionSource ListChanged { get; }

    public static async Task<GatewayHarness> StartAsync(McpGatewayOptions options, ScriptedToolGate gate, CancellationToken killSwitch = default)
    {
        var gateway = new McpGateway(options, gate, killSwitch: killSwitch);
        var toServer = new Pipe();
        var toClient = new Pipe();
        var stop = new CancellationTokenSource();
        var serving = Task.Run(() => gateway.RunAsync(toServer.Reader.AsStream(), toClient.Writer.AsStream(), stop.Token), CancellationToken.None);
        var listChanged = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var client = await McpClient.CreateAsync(
            new StreamClientTransport(toServer.Writer.AsStream(), toClient.Reader.AsStream()),
            new McpClientOptions
            {
                ProtocolVersion = "2025-11-25",
                Handlers = new McpClientHandlers
                {
                    NotificationHandlers = [new(NotificationMethods.ToolListChangedNotification, (_, _) => { listChanged.TrySetResult(); return ValueTask.CompletedTask; })],
                },
            },
            cancellationToken: CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(60), CancellationToken.None);
        return new GatewayHarness(gateway, client, serving, listChanged, stop);
    }

    public async Task<IReadOnlyList<string>> ToolNamesAsync() =>
        [.. (await Client.ListToolsAsync()).Select(t => t.Name).Order(StringComparer.Ordinal)];

    public async Task<CallToolResult> CallAsync(string tool, object? arguments = null)
    {
        var json = System.Text.Json.JsonSerializer.SerializeToElement(arguments ?? new { });
        var parameters = new CallToolRequestParams
        {
            Name = tool,
            Arguments = json.EnumerateObject().ToDictionary(p => p.Name, p => p.Value.Clone()),
        };
        return await Client.CallToolAsync(parameters).AsTask().WaitAsync(TimeSpan.FromSeconds(90));
    }

    public static string Text(CallToolResult result) =>
        string.Concat(result.Content.OfType<TextContentBlock>().Select(b => b.Text));

    public async ValueTask DisposeAsync()
    {
        await Client.DisposeAsync();
        await _stop.CancelAsync();
        try
        {
            await _serving.WaitAsync(TimeSpan.FromSeconds(10));
        }
        catch (OperationCanceledException)
        {
        }
        catch (TimeoutException)
        {
        }

        await Gateway.DisposeAsync();
        _stop.Dispose();
    }
}

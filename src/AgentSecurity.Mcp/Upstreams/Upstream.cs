using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using AgentSecurity.Abstractions.Tools;
using AgentSecurity.Grants;
using AgentSecurity.Grants.Tools;
using AgentSecurity.Mcp.Arguments;
using AgentSecurity.Mcp.Gateway;
using AgentSecurity.Mcp.Telemetry;
using Microsoft.Extensions.Logging;
using ModelContextProtocol;
using ModelContextProtocol.Protocol;

namespace AgentSecurity.Mcp.Upstreams;

/// <summary>
/// One upstream server over the gateway's lifetime: started on first use, restarted after a crash (with backoff), and
/// the tools it lists. The first definition seen of each tool is the one the gateway serves; a tool whose definition
/// changes later (a "rug pull") is recorded once and refused from then on, across restarts too.
/// </summary>
internal sealed class Upstream : IAsyncDisposable
{
    private const int MaxPages = 100;

    private readonly UpstreamOptions _options;
    private readonly McpGatewayOptions _gateway;
    private readonly Func<ToolListing, ToolListing, Task> _recordChanged;
    private readonly Action _toolsChanged;
    private readonly IUpstreamLauncher _launcher;
    private readonly ILoggerFactory _loggerFactory;
    private readonly ILogger _logger;
    private readonly SemaphoreSlim _lock = new(1, 1);
    private readonly Dictionary<string, UpstreamTool> _firstSeen = new(StringComparer.Ordinal);
    private readonly HashSet<string> _changed = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource _stopping = new();
    private readonly CancellationToken _killSwitch;

    private UpstreamConnection? _connection;
    private IReadOnlyList<UpstreamTool> _tools = [];
    private bool _listedOnce;
    private string _problem = "not started yet";
    private int _failures;
    private long _nextAttempt;
    private int _relistQueued;

    /// <summary>Once <paramref name="killSwitch"/> is cancelled, the upstream's session ends at once (calls in flight are cut off) and no new one starts.</summary>
    public Upstream(UpstreamOptions options, McpGatewayOptions gateway, Func<ToolListing, ToolListing, Task> recordChanged, Action toolsChanged, IUpstreamLauncher launcher, ILoggerFactory loggerFactory, CancellationToken killSwitch = default)
    {
        _killSwitch = killSwitch;
        _launcher = launcher;
        _options = options;
        _gateway = gateway;
        _recordChanged = recordChanged;
        _toolsChanged = toolsChanged;
        _loggerFactory = loggerFactory;
        _logger = loggerFactory.CreateLogger<Upstream>();
    }

    public string Name => _options.Name;

    public bool IsLocal => _options.IsLocal && _options.Url is null;

    /// <summary>
    /// Which arguments name resources: the configured map, else the built-in one the command is recognised by, else (once
    /// started) the filesystem map when the server names itself as the reference filesystem server, however launched.
    /// </summary>
    public ArgumentMap Map => _options.ArgumentMap
        ?? (_connection?.Client.ServerInfo?.Name == ArgumentMaps.FilesystemServerName ? ArgumentMap.Filesystem : _options.EffectiveArgumentMap);

    /// <summary>The tools listed now, as first seen, without those whose definition changed; none while the upstream is down.</summary>
    public IReadOnlyList<UpstreamTool> Tools => _connection is { IsBroken: false } ? Volatile.Read(ref _tools) : [];

    /// <summary>Whether the upstream runs and can serve calls now.</summary>
    public bool IsRunning => _connection is { IsBroken: false };

    /// <summary>The current process id, for tests that crash it.</summary>
    internal int? ProcessId => _connection is { IsBroken: false } c ? c.ProcessId : null;

    public bool HasChanged(string tool)
    {
        lock (_changed)
        {
            return _changed.Contains(tool);
        }
    }

    public UpstreamTool? Find(string tool) => Tools.FirstOrDefault(t => t.Name == tool);

    /// <summary>Why the upstream is down, for a refusal's text.</summary>
    public string Problem => _problem;

    /// <summary>The running connection, starting the upstream when it is down and its backoff has passed; null when it is unavailable.</summary>
    public async Task<UpstreamConnection?> EnsureStartedAsync(CancellationToken cancellationToken)
    {
        if (_connection is { IsBroken: false } running)
        {
            return running;
        }

        if (_killSwitch.IsCancellationRequested)
        {
            // The gateway's kill switch, whatever launched the upstream: no new session, for programs and URLs alike.
            _problem = "the agent's servers were stopped";
            return null;
        }

        if (Environment.TickCount64 < Volatile.Read(ref _nextAttempt))
        {
            return null;
        }

        await _lock.WaitAsync(cancellationToken).ConfigureAwait(false);
        UpstreamConnection? started = null;
        try
        {
            if (_connection is { IsBroken: false } other)
            {
                return other;
            }

            if (Environment.TickCount64 < _nextAttempt)
            {
                return null;
            }

            if (_connection is { } dead)
            {
                _connection = null;
                await dead.DisposeAsync().ConfigureAwait(false);
            }

            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _stopping.Token);
            timeout.CancelAfter(_gateway.InitializationTimeout * 2);
            started = await UpstreamConnection.StartAsync(_launcher, _options, _gateway,
                _ => { QueueRelist(); return ValueTask.CompletedTask; }, _loggerFactory, _killSwitch, timeout.Token).ConfigureAwait(false);
            await RefreshLockedAsync(started, timeout.Token).ConfigureAwait(false);
            _connection = started;
            _ = started.Exited.ContinueWith(_ => OnExited(started), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
            Log.UpstreamStarted(_logger, Name, started.ProcessId, started.Client.ServerInfo?.Name ?? "?", started.Client.ServerInfo?.Version ?? "?", _tools.Count);
            return started;
        }
        catch (Exception e) when (!cancellationToken.IsCancellationRequested && e is not ObjectDisposedException)
        {
            if (started is not null)
            {
                await started.DisposeAsync().ConfigureAwait(false);
            }

            Fail(e is UpstreamStartException ? e.Message : $"{e.GetType().Name}: {e.Message}", (e as UpstreamStartException)?.ErrorTail);
            return null;
        }
        finally
        {
            _lock.Release();
        }
    }

    /// <summary>
    /// Forwards a call the agent's grain allowed over <paramref name="connection"/>, the session whose definitions it was
    /// decided on (a restarted upstream is listed and diffed again before it serves a call). A failure of the upstream is
    /// a refusal with its code, never an exception.
    /// </summary>
    public async Task<Result<CallToolResult>> CallAsync(UpstreamConnection? connection, string tool, IDictionary<string, JsonElement>? arguments, CancellationToken cancellationToken)
    {
        if (connection is null)
        {
            return Result<CallToolResult>.Fail(ReasonCodes.Unavailable, $"upstream {Name} is unavailable: {_problem}");
        }

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(_gateway.CallTimeout);
        try
        {
            var result = await connection.Client.CallToolAsync(new CallToolRequestParams { Name = tool, Arguments = arguments }, timeout.Token).ConfigureAwait(false);
            Interlocked.Exchange(ref _failures, 0);
            return Result<CallToolResult>.Ok(result);
        }
        catch (Exception e) when (!cancellationToken.IsCancellationRequested)
        {
            if (connection.Overflowed)
            {
                return Result<CallToolResult>.Fail(ReasonCodes.OutputLimit, $"upstream {Name} {connection.DescribeExit()} (answering {tool}); it starts again on a later call");
            }

            if (e is McpProtocolException protocol)
            {
                return Result<CallToolResult>.Fail(ReasonCodes.ExecutionFailed, $"upstream {Name} answered {tool} with error {(int)protocol.ErrorCode}: {protocol.Message}");
            }

            if (timeout.IsCancellationRequested && !connection.HasExited)
            {
                return Result<CallToolResult>.Fail(ReasonCodes.Timeout, $"upstream {Name} did not answer {tool} within {_gateway.CallTimeout.TotalSeconds:0.###} s");
            }

            await connection.SettleAfterFailureAsync(e).ConfigureAwait(false);
            return Result<CallToolResult>.Fail(ReasonCodes.Unavailable, connection.HasExited
                ? $"upstream {Name} {connection.DescribeExit()}; it starts again on a later call"
                : $"upstream {Name} failed answering {tool} ({e.GetType().Name}: {e.Message})");
        }
    }

    private void OnExited(UpstreamConnection connection)
    {
        if (ReferenceEquals(_connection, connection) && !_stopping.IsCancellationRequested)
        {
            Fail(connection.DescribeExit(), connection.DescribeExit(withErrorTail: true));
        }
    }

    /// <param name="problem">Why, as a refusal may say it to the agent.</param>
    /// <param name="detail">What only the gateway's log gets (the upstream's standard error).</param>
    private void Fail(string problem, string? detail = null)
    {
        _problem = problem;
        var failures = Interlocked.Increment(ref _failures);
        // The first restart is immediate (a crash is usually a one-off); a program that keeps failing is retried ever less often.
        var wait = failures <= 1
            ? TimeSpan.Zero
            : TimeSpan.FromTicks(Math.Min(_gateway.MaxRestartBackoff.Ticks, _gateway.RestartBackoff.Ticks << Math.Min(failures - 2, 20)));
        Volatile.Write(ref _nextAttempt, Environment.TickCount64 + (long)wait.TotalMilliseconds);
        Log.UpstreamUnavailable(_logger, Name, string.IsNullOrEmpty(detail) || detail == problem ? problem : $"{problem} ({detail})", wait);
    }

    /// <summary>At most one re-list waits while another runs: a flood of list_changed notifications costs two listings.</summary>
    private void QueueRelist()
    {
        if (Interlocked.Exchange(ref _relistQueued, 1) == 0)
        {
            _ = RelistAsync();
        }
    }

    private async Task RelistAsync()
    {
        try
        {
            await _lock.WaitAsync(_stopping.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            return;
        }

        try
        {
            Interlocked.Exchange(ref _relistQueued, 0);
            if (_connection is { IsBroken: false } connection)
            {
                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(_stopping.Token);
                timeout.CancelAfter(_gateway.CallTimeout);
                await RefreshLockedAsync(connection, timeout.Token).ConfigureAwait(false);
            }
        }
#pragma warning disable CA1031 // A failed re-list keeps the previous list; the next notification or restart lists again.
        catch (Exception e)
#pragma warning restore CA1031
        {
            Log.RelistFailed(_logger, Name, $"{e.GetType().Name}: {e.Message}");
        }
        finally
        {
            _lock.Release();
        }
    }

    /// <summary>Lists every page of the upstream's tools from the raw JSON-RPC answer (so each is hashed as sent) and diffs against what was seen.</summary>
    private async Task RefreshLockedAsync(UpstreamConnection connection, CancellationToken cancellationToken)
    {
        var listed = new List<UpstreamTool>();
        var changes = new List<(ToolListing Before, ToolListing After)>();
        string? cursor = null;
        var pages = 0;
        do
        {
            var parameters = new JsonObject();
            if (cursor is not null)
            {
                parameters["cursor"] = cursor;
            }

            var response = await connection.Client.SendRequestAsync(new JsonRpcRequest { Method = RequestMethods.ToolsList, Params = parameters }, cancellationToken).ConfigureAwait(false);
            var result = response.Result as JsonObject ?? throw new UpstreamStartException($"upstream {Name} answered tools/list without a result object");
            foreach (var node in result["tools"] as JsonArray ?? [])
            {
                if (listed.Count >= _gateway.MaxToolsPerUpstream)
                {
                    Log.TooManyTools(_logger, Name, _gateway.MaxToolsPerUpstream);
                    break;
                }

                if (Read(node) is { } tool)
                {
                    listed.Add(tool);
                }
            }

            cursor = result["nextCursor"] is JsonValue next && next.TryGetValue<string>(out var text) ? text : null;
        }
        while (cursor is not null && ++pages < MaxPages);

        var current = new List<UpstreamTool>();
        lock (_changed)
        {
            foreach (var tool in listed.DistinctBy(t => t.Name, StringComparer.Ordinal))
            {
                if (!_firstSeen.TryGetValue(tool.Name, out var first))
                {
                    // What was once seen is kept for the session (to tell a change); an upstream that keeps inventing
                    // names gets no more than one listing's worth, and its new names past that are not served.
                    if (_firstSeen.Count >= _gateway.MaxToolsPerUpstream)
                    {
                        continue;
                    }

                    _firstSeen[tool.Name] = tool;
                    current.Add(tool);
                }
                else if (first.Hash != tool.Hash)
                {
                    if (_changed.Add(tool.Name))
                    {
                        var exact = ToolNames.Of(Name, tool.Name);
                        changes.Add((new ToolListing(exact, first.Hash), new ToolListing(exact, tool.Hash)));
                        Log.ToolChanged(_logger, exact, first.Hash, tool.Hash);
                    }
                }
                else if (!_changed.Contains(tool.Name))
                {
                    current.Add(first);
                }
            }
        }

        var before = Volatile.Read(ref _tools);
        Volatile.Write(ref _tools, current);
        foreach (var (was, now) in changes)
        {
            await _recordChanged(was, now).ConfigureAwait(false);
        }

        var differs = changes.Count > 0 || !before.Select(t => t.Name).Order(StringComparer.Ordinal).SequenceEqual(current.Select(t => t.Name).Order(StringComparer.Ordinal));
        if (_listedOnce && differs)
        {
            _toolsChanged();
        }

        _listedOnce = true;
    }

    /// <summary>One listed tool, hashed from its raw JSON; null (and logged) when its name or definition cannot be served.</summary>
    private UpstreamTool? Read(JsonNode? node)
    {
        if (node is not JsonObject raw || raw["name"] is not JsonValue nameValue || !nameValue.TryGetValue<string>(out var name))
        {
            Log.ToolDefinitionHidden(_logger, Name, "?", "a tool without a name");
            return null;
        }

        if (!ToolNames.IsName(name))
        {
            Log.ToolNameHidden(_logger, Name, name);
            return null;
        }

        var hash = ToolDefinitionHash.Compute(Encoding.UTF8.GetBytes(raw.ToJsonString()));
        if (!hash.TryGetValue(out var definitionHash, out var failure))
        {
            Log.ToolDefinitionHidden(_logger, Name, name, failure.Message);
            return null;
        }

        try
        {
            var renamed = (JsonObject)raw.DeepClone();
            renamed["name"] = ToolNames.Of(Name, name);
            var definition = renamed.Deserialize(McpJsonUtilities.GetTypeInfo<Tool>(McpJsonUtilities.DefaultOptions))
                ?? throw new JsonException("null definition");
            return new UpstreamTool(name, definitionHash, definition, raw);
        }
        catch (Exception e) when (e is JsonException or ArgumentException or InvalidOperationException or NotSupportedException)
        {
            Log.ToolDefinitionHidden(_logger, Name, name, e.Message);
            return null;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync().ConfigureAwait(false);
        if (_connection is { } connection)
        {
            await connection.DisposeAsync().ConfigureAwait(false);
        }

        _stopping.Dispose();
    }
}

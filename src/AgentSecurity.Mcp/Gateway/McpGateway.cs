using System.Text.Json;
using AgentSecurity.Abstractions;
using AgentSecurity.Abstractions.Tools;
using AgentSecurity.Grants;
using AgentSecurity.Grants.Tools;
using AgentSecurity.Mcp.Arguments;
using AgentSecurity.Mcp.Gate;
using AgentSecurity.Mcp.Listings;
using AgentSecurity.Mcp.Telemetry;
using AgentSecurity.Mcp.Upstreams;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using ModelContextProtocol;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;

namespace AgentSecurity.Mcp.Gateway;

/// <summary>
/// An MCP server in front of upstream MCP servers for one agent. <c>tools/list</c> is the union of the upstreams'
/// tools as <c>NAME/tool</c>, filtered by the agent's grain; every <c>tools/call</c> is decided by the grain (with the
/// resources its arguments map to) before it reaches an upstream. Only tools pass: resources, prompts, completions,
/// sampling, roots and elicitation are neither offered downstream nor asked for upstream.
/// </summary>
/// <remarks>
/// Decisions the issue left open, taken here:
/// <list type="bullet">
/// <item>A tool whose definition changes while the gateway runs is recorded once (<c>tool.changed</c>), hidden from
/// <c>tools/list</c> (the client is told the list changed) and refused <c>tool_changed</c> by the gateway itself from then
/// on: the grain cannot know the change, so those refusals are logged, not audited per call.</item>
/// <item>A valid name whose server no upstream has, or whose tool the upstream does not list, still goes to the grain
/// (decided and audited); when the grain allows it the result is <c>unavailable</c> (no such upstream, or the upstream is
/// down) or <c>invalid_request</c> (the upstream lists no such tool).</item>
/// <item>A name that is not <c>server/tool</c> is refused <c>invalid_resource</c> without asking the grain: no grant can name it.</item>
/// </list>
/// </remarks>
public sealed class McpGateway : IAsyncDisposable
{
    /// <summary>How the check of an argument's real path is named, after the argument (<c>/path (resolved)</c>).</summary>
    private const string ResolvedSuffix = " (resolved)";

    /// <summary>The most listings one <c>SelectVisibleToolsAsync</c> call carries.</summary>
    public const int VisibilityBatch = 1024;

    private readonly McpGatewayOptions _options;
    private readonly IToolGate _gate;
    private readonly ILoggerFactory _loggerFactory;
    private readonly ILogger _logger;
    private readonly Dictionary<string, Upstream> _upstreams;
    private readonly Lock _sync = new();
    private readonly List<McpServer> _servers = [];

    public McpGateway(McpGatewayOptions options, IToolGate gate, ILoggerFactory? loggerFactory = null, IUpstreamLauncher? launcher = null, CancellationToken killSwitch = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(gate);
        var validation = new McpGatewayOptionsValidator().Validate(null, options);
        if (validation.Failed)
        {
            throw new OptionsValidationException(nameof(McpGatewayOptions), typeof(McpGatewayOptions), validation.Failures);
        }

        _options = options;
        _gate = gate;
        _loggerFactory = loggerFactory ?? NullLoggerFactory.Instance;
        _logger = _loggerFactory.CreateLogger<McpGateway>();
        launcher ??= new LocalUpstreamLauncher(_loggerFactory);
        _upstreams = options.Upstreams.ToDictionary(
            u => u.Name,
            u => new Upstream(u, options, (before, after) => _gate.RecordToolChangedAsync(before, after, CancellationToken.None), NotifyToolsChanged, launcher, _loggerFactory, killSwitch),
            StringComparer.Ordinal);
    }

    /// <summary>Starts every upstream now (in parallel), so the first <c>tools/list</c> does not wait; one that fails is retried later.</summary>
    public Task StartAsync(CancellationToken cancellationToken) =>
        Task.WhenAll(_upstreams.Values.Select(u => u.EnsureStartedAsync(cancellationToken)));

    /// <summary>Server options whose handlers are this gateway's: for a stdio server, or per session of an HTTP endpoint.</summary>
    public McpServerOptions CreateServerOptions() => Configure(new McpServerOptions());

    /// <summary>Puts this gateway's handlers and capabilities (only tools, with list_changed) into <paramref name="options"/>.</summary>
    public McpServerOptions Configure(McpServerOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.ServerInfo ??= new Implementation { Name = "agentsec-mcp", Version = typeof(McpGateway).Assembly.GetName().Version?.ToString() ?? "0" };
        options.Capabilities = new ServerCapabilities { Tools = new ToolsCapability { ListChanged = true } };
        options.Handlers.ListToolsHandler = ListToolsAsync;
        options.Handlers.CallToolHandler = CallToolAsync;
        return options;
    }

    /// <summary>
    /// Like <see cref="Configure"/> for a stateless transport (the silo's Streamable HTTP endpoint), where every request
    /// has its own short-lived server: none is kept to be told of list changes (there is no stream to tell them on), and
    /// list_changed is not offered.
    /// </summary>
    public McpServerOptions ConfigureStateless(McpServerOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.ServerInfo ??= new Implementation { Name = "agentsec-mcp", Version = typeof(McpGateway).Assembly.GetName().Version?.ToString() ?? "0" };
        options.Capabilities = new ServerCapabilities { Tools = new ToolsCapability { ListChanged = false } };
        options.Handlers.ListToolsHandler = ListToolsCoreAsync;
        options.Handlers.CallToolHandler = CallToolCoreAsync;
        return options;
    }

    /// <summary>Serves one client over a pair of streams (stdin/stdout for <c>agentsec mcp serve</c>) until it disconnects.</summary>
    public async Task RunAsync(Stream input, Stream output, CancellationToken cancellationToken)
    {
        await StartAsync(cancellationToken).ConfigureAwait(false);
        var options = CreateServerOptions();
        // The client's messages are bounded like the upstreams' output: a client that sends one endless line ends its
        // session instead of the gateway's memory.
        await using var bounded = new BoundedLineStream(input, _options.MaxLineBytes, static () => { });
        await using var transport = new StreamServerTransport(bounded, output, options.ServerInfo?.Name, _loggerFactory);
        await using var server = McpServer.Create(transport, options, _loggerFactory);
        Attach(server);
        try
        {
            await server.RunAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            lock (_sync)
            {
                _servers.Remove(server);
            }
        }
    }

    /// <summary>
    /// Every tool of every upstream as the upstream lists it (unfiltered, for <c>agentsec mcp pins</c>), and the problem
    /// of each upstream that could not be started.
    /// </summary>
    public async Task<(IReadOnlyList<ToolListing> Tools, IReadOnlyDictionary<string, string> Unavailable)> ListUpstreamToolsAsync(CancellationToken cancellationToken)
    {
        await StartAsync(cancellationToken).ConfigureAwait(false);
        var tools = new List<ToolListing>();
        var unavailable = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var upstream in _upstreams.Values)
        {
            if (!upstream.IsRunning)
            {
                unavailable[upstream.Name] = upstream.Problem;
            }

            tools.AddRange(upstream.Tools.Select(t => new ToolListing(ToolNames.Of(upstream.Name, t.Name), t.Hash)));
        }

        return (tools, unavailable);
    }

    /// <summary>The process id of an upstream now (for tests that crash it), or null while it is down.</summary>
    internal int? UpstreamProcessId(string name) => _upstreams.TryGetValue(name, out var upstream) ? upstream.ProcessId : null;

    private void Attach(McpServer server)
    {
        lock (_sync)
        {
            if (!_servers.Contains(server))
            {
                _servers.Add(server);
            }
        }
    }

    private void NotifyToolsChanged()
    {
        McpServer[] servers;
        lock (_sync)
        {
            servers = [.. _servers];
        }

        foreach (var server in servers)
        {
            _ = NotifyAsync(server);
        }

        async Task NotifyAsync(McpServer server)
        {
            try
            {
                await server.SendNotificationAsync(NotificationMethods.ToolListChangedNotification).ConfigureAwait(false);
            }
#pragma warning disable CA1031 // A client that is gone or cannot take notifications lists again when it wants.
            catch (Exception e)
#pragma warning restore CA1031
            {
                Log.NotifyFailed(_logger, e.Message);
            }
        }
    }

    private ValueTask<ListToolsResult> ListToolsAsync(RequestContext<ListToolsRequestParams> request, CancellationToken cancellationToken)
    {
        Attach(request.Server);
        return ListToolsCoreAsync(request, cancellationToken);
    }

    private async ValueTask<ListToolsResult> ListToolsCoreAsync(RequestContext<ListToolsRequestParams> request, CancellationToken cancellationToken)
    {
        await StartAsync(cancellationToken).ConfigureAwait(false);
        var offered = _upstreams.Values.SelectMany(u => u.Tools.Select(t => (Upstream: u, Tool: t))).ToList();
        var visible = new bool[offered.Count];
        for (var start = 0; start < offered.Count; start += VisibilityBatch)
        {
            var batch = offered.Skip(start).Take(VisibilityBatch).Select(o => new ToolListing(ToolNames.Of(o.Upstream.Name, o.Tool.Name), o.Tool.Hash)).ToList();
            var answer = await _gate.SelectVisibleToolsAsync(batch, cancellationToken).ConfigureAwait(false);
            // An answer of another length cannot be matched to the tools: show none of the batch.
            if (answer.Length == batch.Count)
            {
                answer.CopyTo(visible, start);
            }
        }

        return new ListToolsResult { Tools = [.. offered.Where((_, i) => visible[i]).Select(o => o.Tool.Definition)] };
    }

    private ValueTask<CallToolResult> CallToolAsync(RequestContext<CallToolRequestParams> request, CancellationToken cancellationToken)
    {
        Attach(request.Server);
        return CallToolCoreAsync(request, cancellationToken);
    }

    private async ValueTask<CallToolResult> CallToolCoreAsync(RequestContext<CallToolRequestParams> request, CancellationToken cancellationToken)
    {
        var name = request.Params?.Name;
        var arguments = request.Params?.Arguments;
        if (!ToolNames.TrySplit(name, out var server, out var tool))
        {
            return Refuse(name ?? "(none)", ReasonCodes.InvalidResource,
                $"\"{Printable(name)}\" is not a tool server/tool (each part [A-Za-z0-9][A-Za-z0-9._-], at most 64 characters)");
        }

        var upstream = _upstreams.GetValueOrDefault(server);
        UpstreamConnection? connection = null;
        if (upstream is not null)
        {
            // Started first, so the definition's hash is known (a pinned tool checked without one is refused).
            connection = await upstream.EnsureStartedAsync(cancellationToken).ConfigureAwait(false);
            if (upstream.HasChanged(tool))
            {
                return Refuse(name!, ReasonCodes.ToolChanged, $"the definition of {name} changed while the gateway served it; it is refused until the gateway restarts with a definition the grant accepts");
            }
        }

        var map = upstream?.Map ?? ArgumentMap.Empty;
        if (!map.Map(tool, arguments).TryGetValue(out var mapped, out var unreadable))
        {
            return Refuse(name!, unreadable.Code, unreadable.Message);
        }

        IReadOnlyList<MappedResource> resources = mapped;
        if (upstream is { IsLocal: true })
        {
            if (!WithRealPaths(mapped).TryGetValue(out var withReal, out var unresolvable))
            {
                return Refuse(name!, unresolvable.Code, unresolvable.Message);
            }

            resources = withReal;
        }

        if (resources.Count > ToolCall.MaxResources)
        {
            return Refuse(name!, ReasonCodes.InvalidRequest, $"the call names {resources.Count} resources; at most {ToolCall.MaxResources} are checked in one call");
        }

        var definition = upstream?.Find(tool);
        var decision = await _gate.CheckToolCallAsync(
            new ToolCall { Tool = name!, DefinitionHash = definition?.Hash, Resources = [.. resources.Select(r => r.Check)] },
            cancellationToken).ConfigureAwait(false);
        if (!decision.Allowed)
        {
            return Refuse(name!, decision.Decision.Reason, Describe(decision, resources));
        }

        if (upstream is null)
        {
            return Refuse(name!, ReasonCodes.Unavailable, $"no upstream is named {server} (this gateway has {string.Join(", ", _upstreams.Keys)})");
        }

        if (definition is null)
        {
            return connection is null
                ? Refuse(name!, ReasonCodes.Unavailable, $"upstream {server} is unavailable: {upstream.Problem}")
                : Refuse(name!, ReasonCodes.InvalidRequest, $"upstream {server} lists no tool {tool}");
        }

        // A list_changed may have arrived while the grain decided: forward only to the definition that was decided on.
        // (A definition is kept as first seen, so a change of it is exactly what HasChanged records; a crash in the
        // meantime is the forward's to report.)
        if (upstream.HasChanged(tool))
        {
            return Refuse(name!, ReasonCodes.ToolChanged, $"the definition of {name} changed while the call was decided; it is refused");
        }

        // A listing (directory_tree, search_files) names what lies below its folder: the upstream is kept out of the
        // folders the grant does not read, and its answer shows only what the agent could list itself.
        var listing = map.ListingOf(tool);
        var reads = listing is null ? null : new FolderReads(FolderOf(listing, resources), listing.Capability, _gate);
        if (listing is not null)
        {
            var narrowed = await ListingExclusions.AddAsync(name!, arguments, listing.Listing, reads!, upstream.IsLocal, cancellationToken).ConfigureAwait(false);
            if (!narrowed.TryGetValue(out var withExclusions, out var refused))
            {
                return Refuse(name!, refused.Code, refused.Message);
            }

            arguments = withExclusions;
        }

        var forwarded = await upstream.CallAsync(connection, tool, arguments, cancellationToken).ConfigureAwait(false);
        if (!forwarded.TryGetValue(out var result, out var failure))
        {
            return reads is not null && reads.Folder.NamesBelow(failure.Message)
                ? Refuse(name!, failure.Code, $"upstream {server} failed to answer {tool}, with a message that names something below the folder it was given (withheld: the gateway shows those names only where the grant reads them)")
                : Refuse(name!, failure.Code, failure.Message);
        }

        if (listing is not null)
        {
            var filtered = await ListingFilter.FilterAsync(name!, result, listing.Listing, reads!, upstream.IsLocal, cancellationToken).ConfigureAwait(false);
            if (!filtered.TryGetValue(out var shown, out var withheld))
            {
                return Refuse(name!, withheld.Code, withheld.Message);
            }

            if (shown.Withheld > 0)
            {
                Log.ListingNarrowed(_logger, name!, shown.Withheld);
            }

            result = shown.Result;
        }

        var size = JsonSerializer.SerializeToUtf8Bytes(result, McpJsonUtilities.GetTypeInfo<CallToolResult>(McpJsonUtilities.DefaultOptions)).LongLength;
        return size > _options.MaxResultBytes
            ? Refuse(name!, ReasonCodes.OutputLimit, $"the result of {name} is {size} bytes, over the gateway's limit of {_options.MaxResultBytes}; it was not passed on (nothing is truncated)")
            : result;
    }

    /// <summary>The folder a listing call was given, as written and as the real path its check was also made of (if any).</summary>
    private static ListedFolder FolderOf(ArgumentMapEntry listing, IReadOnlyList<MappedResource> resources) => new(
        resources.First(r => r.Argument == listing.Argument).Check.Resource!,
        resources.FirstOrDefault(r => r.Argument == listing.Argument + ResolvedSuffix)?.Check.Resource);

    /// <summary>The mapped checks, each followed by the check of its real path when a link makes it differ (the file the upstream will touch).</summary>
    /// <remarks>
    /// An absolute path that cannot be resolved here (a link loop, an unreadable link, a name that may be another's Unicode
    /// spelling) is refused: what the upstream would touch is unknown, and an unknown file is not one the grant gives.
    /// Relative and other malformed paths go to the grain as written, which refuses them.
    /// </remarks>
    private static Result<List<MappedResource>> WithRealPaths(IReadOnlyList<MappedResource> mapped)
    {
        var all = new List<MappedResource>(mapped.Count);
        foreach (var resource in mapped)
        {
            all.Add(resource);
            if (!resource.Check.Capability.StartsWith("fileSystem:", StringComparison.Ordinal) || resource.Check.Resource is not ['/', ..] path)
            {
                continue;
            }

            if (LocalPaths.Resolve(path) is not { } real)
            {
                return Result<List<MappedResource>>.Fail(ReasonCodes.InvalidResource,
                    $"argument {resource.Argument}: \"{Printable(path)}\" cannot be resolved on this machine (a link loop, an unreadable link, or a name that is not ASCII where another spelling could name a different file)");
            }

            if (real != path)
            {
                // The same bytes, somewhere else: metered once, by the path as written.
                all.Add(new MappedResource(resource.Argument + ResolvedSuffix, resource.Check with { Resource = real, Amount = resource.Check.Amount is null ? null : 0 }));
            }
        }

        return Result<List<MappedResource>>.Ok(all);
    }

    private static string Describe(ToolCallDecision decision, IReadOnlyList<MappedResource> resources)
    {
        var text = decision.Decision.Message;
        if (decision.RefusedBy is { } refusedBy)
        {
            var argument = resources.FirstOrDefault(r => r.Check == refusedBy)?.Argument;
            text += $" (argument {argument ?? "?"}: {refusedBy.Capability} {refusedBy.Resource})";
        }

        if (decision.RequestId is { } requestId)
        {
            text += $" (permission request {requestId} waits for a person: agentsec request approve TENANT {requestId})";
        }

        return text;
    }

    private CallToolResult Refuse(string tool, string reason, string message)
    {
        var printable = Printable(tool);
        Log.CallRefused(_logger, printable, reason, message);
        return ToolRefusal.Create(reason, message);
    }

    /// <summary>A name as it may appear in a message or a log line: control characters escaped, at most 200 characters.</summary>
    private static string Printable(string? text)
    {
        if (text is null)
        {
            return "(none)";
        }

        var shown = string.Concat(text.Take(200).Select(c => char.IsControl(c) ? $"\\u{(int)c:x4}" : c.ToString()));
        return text.Length > 200 ? shown + "…" : shown;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var upstream in _upstreams.Values)
        {
            await upstream.DisposeAsync().ConfigureAwait(false);
        }
    }
}

using AgentSecurity.Grants;
using AgentSecurity.Abstractions;
using AgentSecurity.Grains.Execution;
using AgentSecurity.Mcp.Gate;
using AgentSecurity.Mcp.Gateway;
using AgentSecurity.Mcp.Upstreams;
using AgentSecurity.Sandbox.Servers;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace AgentSecurity.Hosting.Mcp;

/// <summary>
/// The agents' gateways of this silo's MCP endpoint, one per agent, each with its upstreams started as sandboxed servers
/// of that agent (<see cref="SandboxedUpstreamLauncher"/>). Every request is admitted by the agent's grain first
/// (<see cref="IAgentGrain.AdmitServerAsync"/>, with the caller's session): a refusal stops the agent's servers, and a
/// new grant starts them again on its own terms. An agent's servers are also stopped by its kill switch (a tool call the
/// grain refuses because the agent may run nothing any more), at its grant's expiry, and after
/// <see cref="McpEndpointOptions.IdleTimeout"/> without requests.
/// </summary>
internal sealed class McpAgentPool : IAsyncDisposable
{
    private readonly McpEndpointOptions _options;
    private readonly IServiceProvider _services;
    private readonly ILoggerFactory _loggerFactory;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly Dictionary<string, AgentGateway> _agents = new(StringComparer.Ordinal);
    private readonly Lock _sync = new();
    private readonly ITimer _sweep;

    public McpAgentPool(IOptions<McpEndpointOptions> options, IServiceProvider services, ILoggerFactory loggerFactory, TimeProvider? time = null)
    {
        _options = options.Value;
        _services = services;
        _loggerFactory = loggerFactory;
        _logger = loggerFactory.CreateLogger<McpAgentPool>();
        _time = time ?? TimeProvider.System;
        var every = TimeSpan.FromTicks(Math.Max(TimeSpan.FromSeconds(1).Ticks, _options.IdleTimeout.Ticks / 4));
        _sweep = _time.CreateTimer(_ => _ = SweepAsync(), null, every, every);
    }

    /// <summary>Agents with a gateway now.</summary>
    public int Count
    {
        get
        {
            lock (_sync)
            {
                return _agents.Count;
            }
        }
    }

    /// <summary>
    /// The agent's gateway for one request, after its grain admitted it (the caller's session must be in the flow); or
    /// the refusal with its reason code. A <see cref="Abstractions.Boundary.CallRefusedException"/> of the admission propagates.
    /// </summary>
    public async Task<(McpGateway? Gateway, string? Error, string? Message)> EnterAsync(string tenant, string agent, IAgentGrain grain)
    {
        var key = AgentKey.Of(tenant, agent);
        var admission = await grain.AdmitServerAsync("mcp").ConfigureAwait(false);
        if (admission is not { Admitted: true })
        {
            var error = admission?.Error ?? ReasonCodes.Unavailable;
            await StopAsync(key, error).ConfigureAwait(false);
            return (null, error, admission?.Message ?? "the agent's grain gave no admission");
        }

        AgentGateway? replaced = null;
        AgentGateway entry;
        lock (_sync)
        {
            if (_agents.TryGetValue(key, out var existing) && existing.GrantId == admission.GrantId && !existing.Killed)
            {
                existing.Touch(_time);
                return (existing.Gateway, null, null);
            }

            if (existing is not null)
            {
                // Another grant (its terms may differ) or a pulled kill switch: the old servers go, new ones start.
                _agents.Remove(key);
                replaced = existing;
            }
            else if (_agents.Count >= _options.MaxAgents)
            {
                return (null, ReasonCodes.Unavailable, $"this silo serves MCP for its most agents at once ({_options.MaxAgents}); try again later");
            }

            entry = Create(tenant, agent, key, grain, admission);
            _agents[key] = entry;
        }

        if (replaced is not null)
        {
            await replaced.DisposeAsync().ConfigureAwait(false);
        }

        return (entry.Gateway, null, null);
    }

    private AgentGateway Create(string tenant, string agent, string key, IAgentGrain grain, ServerAdmission admission)
    {
        var untilExpiry = admission.ExpiresAt - _time.GetUtcNow();
        var kill = new CancellationTokenSource(untilExpiry > TimeSpan.Zero ? untilExpiry : TimeSpan.Zero, _time);
        var host = _services.GetService<ISandboxServerHost>();
        var executions = _services.GetService<ExecutionServices>();
        IUpstreamLauncher launcher = host is null || executions is null
            ? new UnavailableLauncher("the silo does not add the sandboxes (AddAgentSecuritySandboxes)")
            : new SandboxedUpstreamLauncher(host, executions, tenant, agent, admission, _options.Servers, kill.Token);
        var upstreams = _options.Servers.Select(s => s.Value.ToUpstream(s.Key)).ToList();
        var entry = new AgentGateway(admission.GrantId, kill);
        var gate = new KillSwitchToolGate(new AgentToolGate(grain, key, _loggerFactory.CreateLogger<AgentToolGate>()), reason =>
        {
            McpLog.KillSwitch(_logger, key, reason);
            entry.Kill();
        });
        entry.Gateway = new McpGateway(McpEndpointOptionsValidator.GatewayOptions(_options, upstreams), gate, _loggerFactory, launcher, kill.Token);
        entry.Touch(_time);
        McpLog.AgentStarted(_logger, key, admission.GrantId ?? "?", admission.WorkspaceAccess);
        return entry;
    }

    private async Task StopAsync(string key, string reason)
    {
        AgentGateway? entry;
        lock (_sync)
        {
            if (!_agents.Remove(key, out entry))
            {
                return;
            }
        }

        McpLog.AgentStopped(_logger, key, reason);
        await entry.DisposeAsync().ConfigureAwait(false);
    }

    /// <summary>Stops the gateways idle past the timeout and those whose kill switch was pulled.</summary>
    internal async Task SweepAsync()
    {
        List<(string Key, AgentGateway Entry)> ended;
        lock (_sync)
        {
            ended = [.. _agents.Where(a => a.Value.Killed || a.Value.IdleFor(_time) >= _options.IdleTimeout).Select(a => (a.Key, a.Value))];
            foreach (var (key, _) in ended)
            {
                _agents.Remove(key);
            }
        }

        foreach (var (key, entry) in ended)
        {
            McpLog.AgentStopped(_logger, key, entry.Killed ? "kill switch" : "idle");
            try
            {
                await entry.DisposeAsync().ConfigureAwait(false);
            }
#pragma warning disable CA1031 // One gateway that fails to stop cleanly does not stop the sweep; its servers were killed.
            catch (Exception e)
#pragma warning restore CA1031
            {
                McpLog.StopFailed(_logger, e, key);
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _sweep.DisposeAsync().ConfigureAwait(false);
        List<AgentGateway> all;
        lock (_sync)
        {
            all = [.. _agents.Values];
            _agents.Clear();
        }

        foreach (var entry in all)
        {
            await entry.DisposeAsync().ConfigureAwait(false);
        }
    }

    private sealed class AgentGateway(string? grantId, CancellationTokenSource kill) : IAsyncDisposable
    {
        private long _lastUsed;

        public string? GrantId { get; } = grantId;

        public McpGateway Gateway { get; set; } = null!;

        public bool Killed => kill.IsCancellationRequested;

        public void Touch(TimeProvider time) => Interlocked.Exchange(ref _lastUsed, time.GetTimestamp());

        public TimeSpan IdleFor(TimeProvider time) => time.GetElapsedTime(Interlocked.Read(ref _lastUsed));

        public void Kill()
        {
            try
            {
                kill.Cancel();
            }
            catch (ObjectDisposedException)
            {
                // Already stopped.
            }
        }

        public async ValueTask DisposeAsync()
        {
            Kill();
            await Gateway.DisposeAsync().ConfigureAwait(false);
            kill.Dispose();
        }
    }

    private sealed class UnavailableLauncher(string why) : IUpstreamLauncher
    {
        public Task<UpstreamProcess> StartAsync(UpstreamOptions options, CancellationToken cancellationToken) =>
            throw new UpstreamStartException($"{ReasonCodes.Unavailable}: {why}");
    }
}

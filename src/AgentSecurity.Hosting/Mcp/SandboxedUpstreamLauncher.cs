using AgentSecurity.Grants;
using AgentSecurity.Abstractions;
using AgentSecurity.Grains.Execution;
using AgentSecurity.Mcp.Upstreams;
using AgentSecurity.Sandbox;
using AgentSecurity.Sandbox.Servers;
using AgentSecurity.Sandbox.Workspaces;

namespace AgentSecurity.Hosting.Mcp;

/// <summary>
/// Starts an agent's upstreams as sandboxed servers of that agent on this silo: its workspace (held for the server's
/// life, so an idle sweep waits for it), its user, its admitted limits, and one of the silo's and the tenant's execution
/// slots for as long as it runs. The agent's kill switch kills every server it started.
/// </summary>
internal sealed class SandboxedUpstreamLauncher(
    ISandboxServerHost host,
    ExecutionServices services,
    string tenant,
    string agent,
    ServerAdmission admission,
    IReadOnlyDictionary<string, McpServerConfig> servers,
    CancellationToken killSwitch) : IUpstreamLauncher
{
    public async Task<UpstreamProcess> StartAsync(UpstreamOptions options, CancellationToken cancellationToken)
    {
        if (!servers.TryGetValue(options.Name, out var config))
        {
            throw new UpstreamStartException($"no server {options.Name} is configured");
        }

        if (host.Unavailable is { } why)
        {
            throw new UpstreamStartException($"{ReasonCodes.Unavailable}: sandboxed servers cannot run on this silo: {why}");
        }

        if (config.MemoryBytes > admission.MaxMemoryBytes)
        {
            throw new UpstreamStartException($"{ReasonCodes.MemoryLimit}: server {options.Name} needs {config.MemoryBytes} bytes of address space; the agent's grant allows {admission.MaxMemoryBytes}");
        }

        if (services.TryEnter(tenant) is { } full)
        {
            throw new UpstreamStartException($"{full.Code}: {full.Message}");
        }

        WorkspaceHold? hold = null;
        SandboxServer? server = null;
        var abandoned = false;
        try
        {
            hold = services.HoldWorkspace(tenant, agent)
                ?? throw new UpstreamStartException($"{ReasonCodes.Unavailable}: the agent's workspace on this silo is being removed after a long idle time; try again");
            var spec = new SandboxServerSpec
            {
                Command = config.Command,
                Arguments = config.Arguments,
                Environment = config.Environment,
                ReadOnlyBinds = [.. config.ReadOnlyBinds.Select(b => new SandboxBind(b.HostPath, b.SandboxPath))],
                Workspace = AgentWorkspace.For(services.Workspaces, tenant, agent),
                WorkspaceAccess = admission.WorkspaceAccess switch
                {
                    ServerWorkspaceAccess.Write => WorkspaceAccess.ReadWrite,
                    ServerWorkspaceAccess.Read => WorkspaceAccess.ReadOnly,
                    _ => WorkspaceAccess.None,
                },
                Limits = new SandboxServerLimits
                {
                    MemoryBytes = config.MemoryBytes,
                    Processes = Math.Max(2, admission.Processes),
                    FileBytes = Math.Max(1, admission.FileBytes),
                },
            };
            // The server's life is bound to the kill switch, not to the request that starts it; a start the request stops
            // waiting for is killed once it has started, and only then gives back its workspace and slot.
            var starting = host.StartAsync(spec, killSwitch);
            try
            {
                server = await starting.WaitAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!starting.IsCompleted)
            {
                var held = hold;
                abandoned = true;
                _ = starting.ContinueWith(
                    async t =>
                    {
                        try
                        {
                            if (t.IsCompletedSuccessfully)
                            {
                                await t.Result.DisposeAsync().ConfigureAwait(false);
                            }
                        }
                        finally
                        {
                            Release(held);
                        }
                    },
                    CancellationToken.None, TaskContinuationOptions.None, TaskScheduler.Default);
                throw new UpstreamStartException($"{ReasonCodes.Unavailable}: the start of server {options.Name} was abandoned");
            }
        }
        catch (UpstreamStartException) when (abandoned)
        {
            // Abandoned above: released once the server has ended.
            throw;
        }
        catch (SandboxException e)
        {
            Release(hold);
            throw new UpstreamStartException($"{e.Code}: {e.Message}", e);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidOperationException)
        {
            Release(hold);
            throw new UpstreamStartException($"{ReasonCodes.Unavailable}: the agent's workspace is not available on this silo ({e.Message})", e);
        }
        catch
        {
            Release(hold);
            throw;
        }

        var started = new SandboxedProcess(server);
        _ = server.Exited.ContinueWith(_ => Release(hold), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        return started;
    }

    private void Release(WorkspaceHold? hold)
    {
        try
        {
            hold?.Dispose();
        }
        finally
        {
            services.Exit(tenant);
        }
    }

    private sealed class SandboxedProcess(SandboxServer server) : UpstreamProcess
    {
        public override Stream Input => server.Input;

        public override Stream Output => server.Output;

        public override Task Exited => server.Exited;

        public override bool OutputLimited => server.Exited.IsCompleted && server.Error == ReasonCodes.OutputLimit;

        public override string DescribeExit(bool withErrorTail = false)
        {
            var status = server.Exited.IsCompleted ? server.Exited.Result.ToString(System.Globalization.CultureInfo.InvariantCulture) : "unknown";
            var why = server.Error is { } error ? $", {error}: {server.Message}" : string.Empty;
            var tail = server.ErrorTail.Trim();
            return $"exited (code {status}{why})" + (withErrorTail && tail.Length > 0 ? $": {tail}" : string.Empty);
        }

        public override void Kill() => server.Kill();

        public override ValueTask DisposeAsync() => server.DisposeAsync();
    }
}

using System.Security.Cryptography;
using AgentSecurity.Abstractions;
using AgentSecurity.Abstractions.Audit;
using AgentSecurity.Grains.Agents;
using AgentSecurity.Grains.Audit;
using AgentSecurity.Grains.Permissions;
using AgentSecurity.Grains.Quotas;
using AgentSecurity.Grains.Telemetry;
using AgentSecurity.Grants;
using AgentSecurity.Grants.Capabilities;
using AgentSecurity.Grants.Policy;
using AgentSecurity.Sandbox;
using AgentSecurity.Sandbox.Workspaces;

namespace AgentSecurity.Grains.Execution;

/// <summary>
/// Executions: the agent grain decides (isolation level, standing, concurrency, limits) and the sandbox enforces, with
/// every host call a check back on this grain. <see cref="ExecuteAsync"/> interleaves: it touches the grain's state only
/// in its first and last turns, and while the code runs the grain answers checks, host calls included. An execution
/// ends by itself, at its limits, when its grant expires or no longer admits it, or by the kill switch (quarantine,
/// revocation); if a runtime does not stop shortly after its deadline the caller is answered anyway.
/// </summary>
internal sealed class AgentExecutions(
    AgentContext agent,
    IAgentGrain self,
    IGrainContext grain,
    AgentPermissions permissions,
    AgentAudit audit,
    AgentMetering metering,
    ExecutionServices services,
    PlatformLimits platform)
{
    /// <summary>Past the wall-clock limit, how long the runtime has to stop by itself before the deadline stops it.</summary>
    private static readonly TimeSpan DeadlineGrace = TimeSpan.FromSeconds(1);

    /// <summary>Once an execution is stopped (a deadline, the kill switch), how long the caller waits for a runtime that does not stop before it is answered.</summary>
    private static readonly TimeSpan AbandonAfter = TimeSpan.FromSeconds(10);

    /// <summary>
    /// How long an execution waits for a runtime that <see cref="ISandboxRuntime.StartsLater"/> to start its code before it
    /// is answered <c>unavailable</c>. The longest wall time (120 s), its grace, this and <see cref="AbandonAfter"/> stay
    /// within the 2.5 min a client waits for <see cref="IAgentGrain.ExecuteAsync"/>.
    /// </summary>
    private static readonly TimeSpan StartWait = TimeSpan.FromSeconds(15);

    // Made by the first execution: most agents never run code here (bytes per active agent count).
    private Dictionary<long, RunningExecution>? _running;
    private long _executionCounter;

    // Made by the first execution, like the table above: the local path of its host calls' checks.
    private HostCallDecisions? _hostCalls;

    public async Task<ExecutionResult> ExecuteAsync(ExecutionRequest request)
    {
        var (refusal, runtime, limits) = AdmitExecution(request);
        if (refusal is not null)
        {
            agent.Metrics.RecordExecution(request?.Runtime ?? "none", refusal.Error!);
            await AuditExecutionAsync(request, refusal);
            return refusal;
        }

        var grant = permissions.Active!;
        var id = ++_executionCounter;
        var running = new RunningExecution(runtime!.Name, e => Log.ExecutionStopFailed(agent.Logger, e, agent.Key, runtime.Name));

        // Wall time is real time, as the runtimes measure it, from when the code starts: waiting for a free worker on a busy
        // silo is not the agent's to pay for, and has a bound of its own. A grant's expiry is the kernel's time, from now.
        Action? started = null;
        if (runtime!.StartsLater)
        {
            running.StopUnlessStartedWithin(StartWait, ReasonCodes.Unavailable, $"no {runtime.Name} sandbox was free to start the code within {StartWait.TotalSeconds:0} s; try again", TimeProvider.System);
            started = () =>
            {
                if (running.Started())
                {
                    StopPastWallTime(running, limits!);
                }
            };
        }
        else
        {
            StopPastWallTime(running, limits!);
        }

        running.StopAfter(grant.ExpiresAt - agent.Now, ReasonCodes.Expired, $"grant {grant.GrantId} expired while the code ran", agent.Time);
        (_running ??= [])[id] = running;
        ExecutionResult outcome;
        try
        {
            outcome = await RunAsync(request!, runtime, limits!, grant, running, started);
        }
        finally
        {
            _running?.Remove(id);
        }

        agent.Metrics.RecordExecution(runtime.Name, outcome.Error ?? ReasonCodes.Allowed);
        await AuditExecutionAsync(request, outcome);
        return outcome;
    }

    private static async Task AbandonedAsync(CancellationToken stopped)
    {
        await Task.Delay(Timeout.InfiniteTimeSpan, stopped).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        await Task.Delay(AbandonAfter, CancellationToken.None);
    }

    private static void StopPastWallTime(RunningExecution running, SandboxLimits limits) =>
        running.StopAfter(limits.WallTime + DeadlineGrace, ReasonCodes.Timeout, $"the execution ran past its wall-clock limit ({limits.WallTime.TotalMilliseconds:0} ms)", TimeProvider.System);

    private async Task<ExecutionResult> RunAsync(ExecutionRequest request, ISandboxRuntime runtime, SandboxLimits limits, ActiveGrant grant, RunningExecution running, Action? started)
    {
        AgentWorkspace workspace;
        WorkspaceHold? hold = null;
        try
        {
            // Held until the runtime has really stopped: an idle workspace's removal waits for it, on any silo of the machine.
            hold = services.HoldWorkspace(agent.TenantId, agent.AgentId);
            if (hold is null)
            {
                Release(running);
                return ExecutionResult.Refused(ReasonCodes.Unavailable, "the agent's workspace on this silo is being removed after a long idle time; try again", grant.GrantId);
            }

            workspace = AgentWorkspace.For(services.Workspaces, agent.TenantId, agent.AgentId);
        }
#pragma warning disable CA1031 // Whatever fails here, the slots taken for this execution go back: none may leak.
        catch (Exception e)
#pragma warning restore CA1031
        {
            hold?.Dispose();
            Release(running);
            Log.WorkspaceUnavailable(agent.Logger, e, agent.Key);
            return ExecutionResult.Refused(ReasonCodes.Unavailable, "the agent's workspace is not available on this silo", grant.GrantId);
        }

        var hostCalls = _hostCalls ??= new HostCallDecisions(agent, grain, permissions, metering, audit);
        hostCalls.Start();
        var host = new AgentHostApi(self, hostCalls, workspace, services, running.Token);
        var job = new SandboxJob(runtime.Name, request.Code, request.Input, limits, workspace, WorkspaceAccessOf(grant)) { Started = started };

        // Taken before the run: its end disposes the execution's token source.
        var stopped = running.Token;
        var began = TimeProvider.System.GetTimestamp();

        // Never on the grain's scheduler: a runtime may do work before its first await (the native one watches /proc).
        var run = Task.Run(() => runtime.RunAsync(job, host, running.Token));
        _ = run.ContinueWith(_ =>
        {
            try
            {
                hold.Dispose();
            }
            finally
            {
                Release(running);
            }
        }, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        // Every way an execution ends that the runtime does not choose (a deadline, the start wait, the kill switch) stops
        // it; a runtime that has not stopped AbandonAfter later is left to stop in the background, and the caller answered.
        var answered = await Task.WhenAny(run, AbandonedAsync(stopped));
        if (answered != run)
        {
            Log.ExecutionAbandoned(agent.Logger, agent.Key, runtime.Name, AbandonAfter);
            return Outcome(SandboxResult.Failed(SandboxResult.Cancelled, string.Empty, string.Empty, new SandboxUsage { WallMillis = (long)TimeProvider.System.GetElapsedTime(began).TotalMilliseconds }), running, grant);
        }

        try
        {
            var result = await run;
            hostCalls.RecordAllowed(); // the execution's allowed host calls are in the audit's counts before its caller hears of it
            return Outcome(result, running, grant);
        }
#pragma warning disable CA1031 // A runtime that throws ends the execution with a code, which is audited; the kernel goes on.
        catch (Exception e)
#pragma warning restore CA1031
        {
            Log.RuntimeFailed(agent.Logger, e, runtime.Name, agent.Key);
            return ExecutionResult.Refused(ReasonCodes.ExecutionFailed, $"the {runtime.Name} runtime failed running the code", grant.GrantId);
        }
    }

    /// <summary>The execution's slots go back once its runtime has really stopped (which may be after the caller was answered).</summary>
    private void Release(RunningExecution running)
    {
        if (running.Release())
        {
            services.Exit(agent.TenantId);
        }
    }

    private static ExecutionResult Outcome(SandboxResult result, RunningExecution running, ActiveGrant grant)
    {
        var stopped = result.Error == SandboxResult.Cancelled;
        var (reason, message) = running.StoppedFor ?? (ReasonCodes.Unavailable, "the execution was stopped");
        return new ExecutionResult
        {
            Ok = result.Ok,
            Output = result.Output,
            Error = stopped ? reason : result.Error,
            Message = stopped ? message : result.Message,
            GrantId = grant.GrantId,
            Usage = new ExecutionUsage
            {
                CpuMillis = result.Usage.CpuMillis,
                WallMillis = result.Usage.WallMillis,
                MemoryBytes = result.Usage.MemoryBytes,
                HostCalls = result.Usage.HostCalls,
                Denied = result.Usage.Denied,
            },
        };
    }

    /// <summary>What the grant says about running this code here: the runtime and its limits (with silo slots taken), or the refusal.</summary>
    private (ExecutionResult? Refusal, ISandboxRuntime? Runtime, SandboxLimits? Limits) AdmitExecution(ExecutionRequest? request)
    {
        var o = services.Options;
        if (request?.Code is null || request.Input is null || request.Runtime is null)
        {
            return (ExecutionResult.Refused(ReasonCodes.InvalidRequest, "an execution needs a runtime, code and input"), null, null);
        }

        if (!SandboxRuntimes.All.Contains(request.Runtime))
        {
            return (ExecutionResult.Refused(ReasonCodes.InvalidRequest, $"the runtime is one of {string.Join(", ", SandboxRuntimes.All)}, not \"{request.Runtime}\""), null, null);
        }

        if (!services.Runtimes.TryGetValue(request.Runtime, out var runtime))
        {
            return (ExecutionResult.Refused(ReasonCodes.Unavailable, $"the silo that hosts this agent runs no agent code: it does not add the sandboxes (AddAgentSecuritySandboxes)"), null, null);
        }

        if (request.Code.Length is 0 || request.Code.Length > o.MaxCodeBytes || System.Text.Encoding.UTF8.GetByteCount(request.Input) > o.MaxInputBytes)
        {
            return (ExecutionResult.Refused(ReasonCodes.InvalidRequest, $"code is 1 to {o.MaxCodeBytes} bytes and input at most {o.MaxInputBytes}"), null, null);
        }

        if (permissions.Standing(agent.Now, agent.Key) is { } denied)
        {
            return (ExecutionResult.Refused(denied.Reason, denied.Message ?? denied.Reason, denied.GrantId), null, null);
        }

        var grant = permissions.Active!;
        if (IsolationForbids(grant, runtime.Name) is { } forbidden)
        {
            return (ExecutionResult.Refused(ReasonCodes.IsolationForbids, forbidden, grant.GrantId), null, null);
        }

        var concurrency = ExecutionLimits.Concurrency(grant.Limits, platform, o);
        if (_running?.Count >= concurrency)
        {
            return (ExecutionResult.Refused(ReasonCodes.QuotaExceeded, $"{_running!.Count} executions are running, the most maxConcurrentExecutions allows ({concurrency})", grant.GrantId), null, null);
        }

        if (services.TryEnter(agent.TenantId) is { } full)
        {
            return (ExecutionResult.Refused(full.Code, full.Message, grant.GrantId), null, null);
        }

        return (null, runtime, ExecutionLimits.For(grant.Limits, platform, o));
    }

    /// <summary>
    /// A server's admission: a native <c>process</c> execution's standing and isolation checks, a grant that does not
    /// forbid executions (<c>maxConcurrentExecutions</c> 0), and the terms it runs on. Refusals are audited.
    /// </summary>
    public async Task<ServerAdmission> AdmitServerAsync(string? server)
    {
        var admission = AdmitServer(server);
        if (!admission.Admitted)
        {
            agent.Metrics.RecordExecution(SandboxRuntimes.Process, admission.Error!);
            await AuditExecutionAsync(
                new ExecutionRequest { Runtime = SandboxRuntimes.Process, Code = [] },
                ExecutionResult.Refused(admission.Error!, $"server {server}: {admission.Message}", admission.GrantId));
        }

        return admission;
    }

    private ServerAdmission AdmitServer(string? server)
    {
        var o = services.Options;
        if (server is null || !AgentSecurity.Grants.Tools.ToolNames.IsName(server))
        {
            return ServerAdmission.Refused(ReasonCodes.InvalidRequest, "a server's name is [A-Za-z0-9][A-Za-z0-9._-], at most 64 characters");
        }

        if (!services.Runtimes.ContainsKey(SandboxRuntimes.Process))
        {
            return ServerAdmission.Refused(ReasonCodes.Unavailable, "the silo that hosts this agent runs no native executions: it does not add the sandboxes (AddAgentSecuritySandboxes)");
        }

        if (permissions.Standing(agent.Now, agent.Key) is { } denied)
        {
            return ServerAdmission.Refused(denied.Reason, denied.Message ?? denied.Reason, denied.GrantId);
        }

        var grant = permissions.Active!;
        if (IsolationForbids(grant, SandboxRuntimes.Process) is { } forbidden)
        {
            return ServerAdmission.Refused(ReasonCodes.IsolationForbids, forbidden, grant.GrantId);
        }

        if (ExecutionLimits.Concurrency(grant.Limits, platform, o) <= 0)
        {
            return ServerAdmission.Refused(ReasonCodes.QuotaExceeded, "the grant's maxConcurrentExecutions is 0: it forbids executions, servers included", grant.GrantId);
        }

        return new ServerAdmission
        {
            Admitted = true,
            GrantId = grant.GrantId,
            WorkspaceAccess = WorkspaceAccessOf(grant) switch
            {
                WorkspaceAccess.ReadWrite => ServerWorkspaceAccess.Write,
                WorkspaceAccess.ReadOnly => ServerWorkspaceAccess.Read,
                _ => ServerWorkspaceAccess.None,
            },
            // A server is no short execution: without a grant's own limit it may have the silo's maximum, not the default.
            MaxMemoryBytes = grant.Limits.MaxMemoryBytes is { } granted ? platform.Effective("maxMemoryBytes", granted) ?? o.MaxMemoryBytes : o.MaxMemoryBytes,
            Processes = o.ProcessesPerExecution,
            FileBytes = o.MaxFileWriteBytes,
            ExpiresAt = grant.ExpiresAt,
        };
    }

    /// <summary>
    /// How a native process may touch its workspace directly, where no check sees each file: as the grant's fileSystem
    /// level says, and only if its scopes cover the whole workspace (a path scope cannot bind a process to some files).
    /// </summary>
    private static WorkspaceAccess WorkspaceAccessOf(ActiveGrant grant)
    {
        var level = grant.Policy.Capabilities.FileSystem;
        if (level == AccessLevel.None || !Attenuation.ScopesCover(grant.Policy.Terms.Scopes.FileSystem, AgentWorkspace.Mount + "/**", ResourceKind.Path))
        {
            return WorkspaceAccess.None;
        }

        return level == AccessLevel.Read ? WorkspaceAccess.ReadOnly : WorkspaceAccess.ReadWrite;
    }

    private static string? IsolationForbids(ActiveGrant grant, string runtime) => grant.Policy.Terms.Isolation switch
    {
        IsolationLevel.External => "the grant's environmentIsolation is external: its agent runs outside the cluster",
        IsolationLevel.Sandboxed when runtime == SandboxRuntimes.Process => "a native process needs environmentIsolation native; this grant is sandboxed",
        IsolationLevel.Native when runtime == SandboxRuntimes.Process && !grant.Policy.Capabilities.Subprocess => "a native process needs the subprocess capability",
        _ => null,
    };

    /// <summary>The kill switch: every running execution of this agent stops, reporting why.</summary>
    public void StopAll(string reason, string message)
    {
        foreach (var running in _running?.Values ?? Enumerable.Empty<RunningExecution>())
        {
            running.Stop(reason, message);
        }
    }

    /// <summary>The activation ends: host calls still under way are checks on the grain again, and those allowed are recorded.</summary>
    public void EndHostCalls() => _hostCalls?.Close();

    /// <summary>A new grant holds for running code too: what it would not admit stops, and nothing outlives its expiry.</summary>
    public void Review(ActiveGrant grant)
    {
        foreach (var running in _running?.Values ?? Enumerable.Empty<RunningExecution>())
        {
            if (IsolationForbids(grant, running.Runtime) is { } forbidden)
            {
                running.Stop(ReasonCodes.IsolationForbids, $"the agent's new grant {grant.GrantId} does not admit this execution: {forbidden}");
            }
            else
            {
                running.StopAfter(grant.ExpiresAt - agent.Now, ReasonCodes.Expired, $"grant {grant.GrantId} expired while the code ran", agent.Time);
            }
        }
    }

    /// <summary>
    /// One event per execution: <c>execution.completed</c>, or for one that hit a limit or tried what it may not a
    /// <c>sandbox.violation</c> (what the sandbox-violations rule counts), else <c>execution.failed</c> (a refusal, a
    /// crash of its own, a stop). The code is named by its SHA-256. Denied host calls are audited as the checks they are.
    /// </summary>
    private Task AuditExecutionAsync(ExecutionRequest? request, ExecutionResult result)
    {
        if (!audit.IsAudited)
        {
            return Task.CompletedTask;
        }

        var violation = result.Error is ReasonCodes.FuelExhausted or ReasonCodes.Timeout or ReasonCodes.MemoryLimit or ReasonCodes.OutputLimit
            or ReasonCodes.ProcessLimit or ReasonCodes.SandboxViolation or ReasonCodes.BadModule;
        var usage = result.Usage;
        return audit.PublishAsync(new SandboxEvent
        {
            Id = string.Empty,
            Type = result.Ok ? SecurityEventTypes.ExecutionCompleted : violation ? SecurityEventTypes.SandboxViolation : SecurityEventTypes.ExecutionFailed,
            TenantId = agent.TenantId,
            AgentId = agent.AgentId,
            Runtime = request?.Runtime,
            Resource = request?.Code is { Length: > 0 } code ? $"sha256:{Convert.ToHexStringLower(SHA256.HashData(code))}" : null,
            Reason = result.Error ?? ReasonCodes.Allowed,
            Message = result.Ok
                ? $"{usage.WallMillis} ms, {usage.CpuMillis} ms CPU, {usage.HostCalls} host calls, {usage.Denied} denied"
                : result.Message,
        });
    }
}

using System.Security.Cryptography;
using AgentSecurity.Abstractions;
using AgentSecurity.Abstractions.Audit;
using AgentSecurity.Grains.Execution;
using AgentSecurity.Grains.Telemetry;
using AgentSecurity.Grants;
using AgentSecurity.Grants.Capabilities;
using AgentSecurity.Sandbox;
using AgentSecurity.Sandbox.Workspaces;

namespace AgentSecurity.Grains.Agents;

/// <summary>
/// Executions: the agent grain decides (isolation level, standing, concurrency, limits) and the sandbox enforces, with
/// every host call a check back on this grain. <see cref="ExecuteAsync"/> interleaves: it touches the grain's state only
/// in its first and last turns, and while the code runs the grain answers checks, host calls included.
/// </summary>
public sealed partial class AgentGrain
{
    private readonly Dictionary<long, RunningExecution> _running = [];
    private long _executionCounter;

    public async Task<ExecutionResult> ExecuteAsync(ExecutionRequest request)
    {
        var (refusal, runtime, limits) = AdmitExecution(request);
        if (refusal is not null)
        {
            AgentSecurityMetrics.RecordExecution(request?.Runtime ?? "none", refusal.Error!);
            await AuditExecutionAsync(request, refusal);
            return refusal;
        }

        var grant = _permissions.Active!;
        var running = new RunningExecution();
        var id = ++_executionCounter;
        _running[id] = running;
        ExecutionResult outcome;
        try
        {
            outcome = await RunAsync(request, runtime!, limits!, grant, running);
        }
        finally
        {
            _running.Remove(id);
            running.Stop.Dispose();
            _executions.Exit();
        }

        AgentSecurityMetrics.RecordExecution(runtime!.Name, outcome.Error ?? ReasonCodes.Allowed);
        await AuditExecutionAsync(request, outcome);
        return outcome;
    }

    private async Task<ExecutionResult> RunAsync(ExecutionRequest request, ISandboxRuntime runtime, SandboxLimits limits, ActiveGrant grant, RunningExecution running)
    {
        AgentWorkspace workspace;
        try
        {
            workspace = AgentWorkspace.For(_executions.Workspaces, _tenantId, _agentId);
        }
        catch (IOException e)
        {
            Log.WorkspaceUnavailable(_logger, e, _key);
            return ExecutionResult.Refused(ReasonCodes.Unavailable, $"the agent's workspace is not available on this silo: {e.Message}", grant.GrantId);
        }

        var host = new AgentHostApi(this.AsReference<IAgentGrain>(), workspace, _executions, grant.Policy.Terms.Scopes.Network is not null, running.Stop.Token);
        var result = await runtime.RunAsync(new SandboxJob(runtime.Name, request.Code, request.Input, limits, workspace), host, running.Stop.Token);
        var stopped = result.Error == SandboxResult.Cancelled;
        return new ExecutionResult
        {
            Ok = result.Ok,
            Output = result.Output,
            Error = stopped ? running.StoppedFor ?? ReasonCodes.Unavailable : result.Error,
            Message = stopped ? running.StopMessage ?? "the execution was stopped" : result.Message,
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

    /// <summary>What the grant says about running this code here: the runtime and its limits (with a silo slot taken), or the refusal.</summary>
    private (ExecutionResult? Refusal, ISandboxRuntime? Runtime, SandboxLimits? Limits) AdmitExecution(ExecutionRequest? request)
    {
        var o = _executions.Options;
        if (request?.Code is null || request.Input is null || request.Runtime is null)
        {
            return (ExecutionResult.Refused(ReasonCodes.InvalidRequest, "an execution needs a runtime, code and input"), null, null);
        }

        if (!_executions.Runtimes.TryGetValue(request.Runtime, out var runtime))
        {
            return (ExecutionResult.Refused(ReasonCodes.InvalidRequest, $"the runtime is one of {string.Join(", ", SandboxRuntimes.All)}, not \"{request.Runtime}\""), null, null);
        }

        if (request.Code.Length is 0 || request.Code.Length > o.MaxCodeBytes || System.Text.Encoding.UTF8.GetByteCount(request.Input) > o.MaxInputBytes)
        {
            return (ExecutionResult.Refused(ReasonCodes.InvalidRequest, $"code is 1 to {o.MaxCodeBytes} bytes and input at most {o.MaxInputBytes}"), null, null);
        }

        if (_permissions.Standing(_time.GetUtcNow(), _key) is { } denied)
        {
            return (ExecutionResult.Refused(denied.Reason, denied.Message ?? denied.Reason, denied.GrantId), null, null);
        }

        var grant = _permissions.Active!;
        var forbidden = grant.Policy.Terms.Isolation switch
        {
            IsolationLevel.External => "the grant's environmentIsolation is external: its agent runs outside the cluster",
            IsolationLevel.Sandboxed when runtime.Name == SandboxRuntimes.Process => "a native process needs environmentIsolation native; this grant is sandboxed",
            IsolationLevel.Native when runtime.Name == SandboxRuntimes.Process && !grant.Policy.Capabilities.Subprocess => "a native process needs the subprocess capability",
            _ => null,
        };
        if (forbidden is not null)
        {
            return (ExecutionResult.Refused(ReasonCodes.IsolationForbids, forbidden, grant.GrantId), null, null);
        }

        var concurrency = ExecutionLimits.Concurrency(grant.Limits, o);
        if (_running.Count >= concurrency)
        {
            return (ExecutionResult.Refused(ReasonCodes.QuotaExceeded, $"{_running.Count} executions are running, the most maxConcurrentExecutions allows ({concurrency})", grant.GrantId), null, null);
        }

        if (!_executions.TryEnter())
        {
            return (ExecutionResult.Refused(ReasonCodes.Unavailable, $"this silo is running its most executions at once ({o.MaxExecutionsPerSilo}); try again", grant.GrantId), null, null);
        }

        return (null, runtime, ExecutionLimits.For(grant.Limits, o));
    }

    /// <summary>The kill switch: every running execution of this agent stops, reporting why.</summary>
    private void StopExecutions(string reason, string message)
    {
        foreach (var running in _running.Values)
        {
            running.StoppedFor ??= reason;
            running.StopMessage ??= message;
            running.Stop.Cancel();
        }
    }

    /// <summary>
    /// One event per execution: <c>execution.completed</c>, or for one that hit a limit or tried what it may not a
    /// <c>sandbox.violation</c> (what the sandbox-violations rule counts), else <c>execution.failed</c> (a refusal, a
    /// crash of its own, a stop). The code is named by its SHA-256. Denied host calls are audited as the checks they are.
    /// </summary>
    private Task AuditExecutionAsync(ExecutionRequest? request, ExecutionResult result)
    {
        if (!Audited)
        {
            return Task.CompletedTask;
        }

        var violation = result.Error is ReasonCodes.FuelExhausted or ReasonCodes.Timeout or ReasonCodes.MemoryLimit or ReasonCodes.OutputLimit
            or ReasonCodes.ProcessLimit or ReasonCodes.SandboxViolation or ReasonCodes.BadModule;
        var usage = result.Usage;
        return PublishUnconditionallyAsync(new SandboxEvent
        {
            Id = string.Empty,
            Type = result.Ok ? SecurityEventTypes.ExecutionCompleted : violation ? SecurityEventTypes.SandboxViolation : SecurityEventTypes.ExecutionFailed,
            TenantId = _tenantId,
            AgentId = _agentId,
            Runtime = request?.Runtime,
            Resource = request?.Code is { Length: > 0 } code ? $"sha256:{Convert.ToHexStringLower(SHA256.HashData(code))}" : null,
            Reason = result.Error ?? ReasonCodes.Allowed,
            Message = result.Ok
                ? $"{usage.WallMillis} ms, {usage.CpuMillis} ms CPU, {usage.HostCalls} host calls, {usage.Denied} denied"
                : result.Message,
        });
    }

    private sealed class RunningExecution
    {
        public CancellationTokenSource Stop { get; } = new();

        public string? StoppedFor { get; set; }

        public string? StopMessage { get; set; }
    }
}

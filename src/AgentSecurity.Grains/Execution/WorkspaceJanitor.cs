using AgentSecurity.Grains.Telemetry;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace AgentSecurity.Grains.Execution;

/// <summary>Removes idle workspaces (<see cref="ExecutionServices.RemoveIdleWorkspaces"/>) every <see cref="SandboxOptions.WorkspaceSweepInterval"/>.</summary>
public sealed class WorkspaceJanitor(
    ExecutionServices executions,
    IOptions<SandboxOptions> options,
    [FromKeyedServices(KernelClock.ServiceKey)] TimeProvider time,
    ILogger<WorkspaceJanitor> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.Value.WorkspaceSweepInterval, time);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            try
            {
                // Disk work, off the timer's thread.
                await Task.Run(executions.RemoveIdleWorkspaces, stoppingToken);
            }
#pragma warning disable CA1031 // A sweep that fails (the registry unreadable) must not stop the silo; the next one tries again.
            catch (Exception e) when (e is not OperationCanceledException)
#pragma warning restore CA1031
            {
                Log.WorkspaceSweepFailed(logger, e);
            }
        }
    }
}

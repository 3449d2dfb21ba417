using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace AgentSecurity.Grains.Execution;

/// <summary>Removes idle workspaces (<see cref="ExecutionServices.RemoveIdleWorkspaces"/>) every <see cref="SandboxOptions.WorkspaceSweepInterval"/>.</summary>
public sealed class WorkspaceJanitor(
    ExecutionServices executions,
    IOptions<SandboxOptions> options,
    [FromKeyedServices(KernelClock.ServiceKey)] TimeProvider time) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.Value.WorkspaceSweepInterval, time);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            // Disk work, off the timer's thread.
            await Task.Run(executions.RemoveIdleWorkspaces, stoppingToken);
        }
    }
}

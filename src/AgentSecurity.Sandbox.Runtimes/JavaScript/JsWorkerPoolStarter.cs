using Microsoft.Extensions.Hosting;

namespace AgentSecurity.Sandbox.JavaScript;

/// <summary>Starts the JavaScript workers with the silo, so that its first execution finds them warm.</summary>
internal sealed class JsWorkerPoolStarter(JsWorkerPool pool) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        pool.Start();
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}

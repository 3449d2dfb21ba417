using AgentSecurity.Grains.Execution;
using AgentSecurity.Sandbox;
using AgentSecurity.Sandbox.JavaScript;
using AgentSecurity.Sandbox.Processes;
using AgentSecurity.Sandbox.Servers;
using AgentSecurity.Sandbox.Wasm;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace AgentSecurity.Hosting;

public static class SandboxSiloBuilderExtensions
{
    /// <summary>
    /// Runs agent code on this silo: the WebAssembly (Wasmtime), JavaScript (Jint, in a pool of sandboxed worker
    /// processes, section <c>AgentSecurity:Sandbox:JavaScript</c>) and native (bubblewrap) runtimes,
    /// the host of agents' long-lived sandboxed servers (<see cref="ISandboxServerHost"/>, for MCP upstreams started by
    /// the silo), the model provider that host calls reach, and the janitor that removes idle agents' workspaces (settings:
    /// section <c>AgentSecurity:Sandbox</c>). Without it the kernel decides checks and answers executions
    /// <c>unavailable</c>.
    /// </summary>
    public static ISiloBuilder AddAgentSecuritySandboxes(this ISiloBuilder silo)
    {
        // Twice would register every runtime twice, and no agent grain could start.
        if (silo.Services.Any(s => s.ServiceType == typeof(SandboxesAdded)))
        {
            return silo;
        }

        silo.Services.AddSingleton<SandboxesAdded>();
        silo.Services.AddHostedService<WorkspaceJanitor>();
        silo.Services.AddSingleton<ISandboxRuntime>(_ => new WasmRuntime());
        static ProcessRuntimeOptions Processes(IServiceProvider services) => new()
        {
            ScratchRoot = Path.Combine(services.GetRequiredService<IOptions<SandboxOptions>>().Value.WorkspaceRoot, ".exec"),
        };
        silo.Services.AddSingleton<ISandboxRuntime>(services => new ProcessRuntime(Processes(services)));

        // JavaScript runs in worker processes sandboxed as native programs are, never in the silo's own process.
        silo.Services.AddOptions<JsWorkerPoolOptions>().Bind(silo.Configuration.GetSection(JsWorkerPoolOptions.SectionName)).ValidateOnStart();
        silo.Services.AddSingleton<IValidateOptions<JsWorkerPoolOptions>, JsWorkerPoolOptionsValidator>();
        // Its deadlines (a worker's start, the back-off after failed starts) are real time, as a process's start is, and
        // never the kernel's clock: a test's fake clock that jumps or stands still must neither end a start nor stall the pool.
        silo.Services.AddSingleton(services => new JsWorkerPool(
            Processes(services),
            services.GetRequiredService<IOptions<JsWorkerPoolOptions>>().Value,
            TimeProvider.System,
            services.GetService<ILogger<JsWorkerPool>>()));
        silo.Services.AddSingleton<ISandboxRuntime>(services => services.GetRequiredService<JsWorkerPool>());
        silo.Services.AddHostedService<JsWorkerPoolStarter>();
        silo.Services.AddSingleton<ISandboxServerHost>(services => new SandboxServerHost(Processes(services)));
        silo.Services.AddHttpClient<ILlmProvider, OpenAiCompatibleLlmProvider>();
        return silo;
    }
}

/// <summary>Marks a silo whose sandboxes are added.</summary>
internal sealed class SandboxesAdded;

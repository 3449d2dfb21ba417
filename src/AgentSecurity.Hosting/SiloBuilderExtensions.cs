using AgentSecurity.Grains;
using AgentSecurity.Grains.Agents;
using AgentSecurity.Grains.Audit;
using AgentSecurity.Grains.Boundary;
using AgentSecurity.Grains.Execution;
using AgentSecurity.Grains.Telemetry;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace AgentSecurity.Hosting;

public static class SiloBuilderExtensions
{
    /// <summary>
    /// Adds the security kernel: its grains' services, the trust boundary's call filters, and its settings (section
    /// <c>AgentSecurity</c>, then <paramref name="configure"/>), validated when the silo starts. The kernel's clock is
    /// the <see cref="KernelClock"/> service. It changes no silo-wide setting: storage is
    /// <see cref="StorageSiloBuilderExtensions.UseAgentSecurityAzureStorage(ISiloBuilder, Action{Storage.AgentSecurityStorageOptions})"/>
    /// (or providers of the names in <see cref="StorageNames"/>), clustering is the host's, and running agent code is
    /// <c>AddAgentSecuritySandboxes</c> (package AgentSecurity.Sandbox.Runtimes).
    /// </summary>
    public static ISiloBuilder AddAgentSecurity(this ISiloBuilder silo, Action<AgentSecurityOptions>? configure = null)
    {
        var options = silo.Services.AddOptions<AgentSecurityOptions>().Bind(silo.Configuration.GetSection(AgentSecurityOptions.SectionName));
        if (configure is not null)
        {
            options.Configure(configure);
        }

        options.ValidateOnStart();
        silo.Services.AddSingleton<IValidateOptions<AgentSecurityOptions>, AgentSecurityOptionsValidator>();
        silo.Services.AddOptions<AuditOptions>().Bind(silo.Configuration.GetSection(AuditOptions.SectionName)).ValidateOnStart();
        silo.Services.AddSingleton<IValidateOptions<AuditOptions>, AuditOptionsValidator>();
        silo.Services.AddMetrics();
        silo.Services.AddSingleton<AgentSecurityMetrics>();
        silo.Services.AddSingleton<AuditKey>();
        silo.Services.AddSingleton<AuditEvents>();
        silo.Services.AddSingleton<AgentServices>();
        silo.Services.AddOptions<SandboxOptions>().Bind(silo.Configuration.GetSection(SandboxOptions.SectionName)).ValidateOnStart();
        silo.Services.AddSingleton<IValidateOptions<SandboxOptions>, SandboxOptionsValidator>();
        silo.Services.AddSingleton<ExecutionServices>();
        silo.Services.AddSingleton(services => ExecutionLimits.Platform(
            services.GetRequiredService<IOptions<SandboxOptions>>().Value, services.GetRequiredService<IOptions<AgentSecurityOptions>>().Value));
        silo.AddAgentSecurityBoundary();
        return silo;
    }
}

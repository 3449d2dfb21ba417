using AgentSecurity.Abstractions.Kernel;
using AgentSecurity.Grains.Audit;
using AgentSecurity.Grains.Telemetry;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace AgentSecurity.Grains.Agents;

/// <summary>
/// The silo's services every agent's parts use: one object per silo (a singleton), which each agent's
/// <see cref="AgentContext"/> refers to, rather than six references of its own per active agent.
/// </summary>
public sealed class AgentServices(
    IGrainFactory grains,
    [FromKeyedServices(KernelClock.ServiceKey)] TimeProvider time,
    IOptions<AgentSecurityOptions> options,
    AuditEvents events,
    AgentSecurityMetrics metrics,
    ILogger<AgentGrain> logger)
{
    public IGrainFactory Grains { get; } = grains;

    public TimeProvider Time { get; } = time;

    public AgentSecurityOptions Options { get; } = options.Value;

    public AuditEvents Events { get; } = events;

    public AgentSecurityMetrics Metrics { get; } = metrics;

    public ILogger Logger { get; } = logger;
}

using AgentSecurity.Grains.Boundary.Frames;
using AgentSecurity.Grains.Telemetry;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Orleans.Configuration;

namespace AgentSecurity.Grains.Boundary;

public static class BoundaryRegistration
{
    /// <summary>
    /// The trust boundary (<see cref="BoundaryFilter"/>): every client call proves a principal with a session and holds the
    /// right the method needs; calls between the kernel's grains carry the cluster's token; the kernel's own methods are
    /// refused to clients. Part of <c>AddAgentSecurity</c>: a kernel without it is no boundary.
    /// </summary>
    public static ISiloBuilder AddAgentSecurityBoundary(this ISiloBuilder silo)
    {
        silo.Services.AddOptions<BoundaryOptions>().Bind(silo.Configuration.GetSection(BoundaryOptions.SectionName)).ValidateOnStart();
        silo.Services.AddSingleton<IValidateOptions<BoundaryOptions>, BoundaryOptionsValidator>();
        silo.Services.AddSingleton<KernelToken>();
        silo.Services.AddSingleton<CallRules>();
        silo.Services.AddSingleton<InterleavingGuard>();
        silo.Services.AddSingleton<CallerDirectory>();
        silo.Services.AddSingleton(services => new SessionCache(
            services.GetRequiredKeyedService<TimeProvider>(KernelClock.ServiceKey),
            services.GetRequiredService<IOptions<ClusterOptions>>().Value.ServiceId,
            services.GetRequiredService<IOptions<AgentSecurityOptions>>().Value.ClockSkew,
            services.GetRequiredService<IOptions<BoundaryOptions>>().Value.SessionCacheSize,
            () => services.GetRequiredService<AgentSecurityMetrics>().SessionsVerified.Add(1)));
        silo.Services.AddSingleton(services => new CallAuthorizer(
            services.GetRequiredService<IOptions<AgentSecurityOptions>>().Value.OperatorDid,
            services.GetRequiredService<CallerDirectory>(),
            services.GetRequiredKeyedService<TimeProvider>(KernelClock.ServiceKey)));
        silo.Services.AddSingleton<IBoundaryGate, BoundaryGate>();
        silo.Services.AddHostedService<CallerCacheSubscription>();
        silo.AddIncomingGrainCallFilter<BoundaryFilter>();
        silo.AddOutgoingGrainCallFilter<KernelCallStamp>();
        silo.AddClientFrameGate();
        return silo;
    }
}

/// <summary>Refuses to start a silo whose boundary settings would let it grow without bound or never re-read who may call.</summary>
public sealed class BoundaryOptionsValidator : IValidateOptions<BoundaryOptions>
{
    public ValidateOptionsResult Validate(string? name, BoundaryOptions options) => new SettingChecks(BoundaryOptions.SectionName)
        .Positive("SessionCacheSize", options.SessionCacheSize)
        .Require(options.CallersLifetime > TimeSpan.Zero && options.CallersLifetime <= TimeSpan.FromMinutes(5), "CallersLifetime", "must be positive and at most 5 minutes", options.CallersLifetime)
        .Positive("TenantCacheSize", options.TenantCacheSize)
        .Result;
}

using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using OpenTelemetry.Resources;
using Orleans.Configuration;

namespace AgentSecurity.Silo;

/// <summary>
/// Which silo of which cluster the telemetry comes from: the silo's name (also its <c>service.instance.id</c>), its
/// cluster and service ids. Read from the silo's options when the telemetry providers are built, after configuration.
/// </summary>
internal sealed class SiloResourceDetector(IServiceProvider services) : IResourceDetector
{
    public const string SiloNameAttribute = "orleans.silo.name";
    public const string ClusterIdAttribute = "orleans.cluster.id";
    public const string ServiceIdAttribute = "orleans.service.id";

    public Resource Detect()
    {
        var silo = services.GetRequiredService<IOptions<SiloOptions>>().Value;
        var cluster = services.GetRequiredService<IOptions<ClusterOptions>>().Value;
        return new Resource(new Dictionary<string, object>
        {
            ["service.instance.id"] = silo.SiloName,
            [SiloNameAttribute] = silo.SiloName,
            [ClusterIdAttribute] = cluster.ClusterId,
            [ServiceIdAttribute] = cluster.ServiceId,
        });
    }
}

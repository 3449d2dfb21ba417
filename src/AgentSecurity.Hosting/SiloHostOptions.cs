using System.ComponentModel.DataAnnotations;

namespace AgentSecurity.Hosting;

/// <summary>
/// Where a silo listens and what it stores into (configuration section <c>Silo</c>; the <c>AGENTSEC_*</c>
/// environment variables of <see cref="EnvironmentAliases"/> override it). Everything binds to loopback.
/// </summary>
public sealed class SiloHostOptions
{
    public const string SectionName = "Silo";

    [Required]
    public string ClusterId { get; set; } = "agentsec-dev";

    [Required]
    public string ServiceId { get; set; } = "agentsec";

    [Range(1, 65535)]
    public int SiloPort { get; set; } = 11111;

    [Range(1, 65535)]
    public int GatewayPort { get; set; } = 30000;

    /// <summary>Dashboard (<c>/dashboard</c>), metrics (<c>/metrics</c>) and health (<c>/healthz</c>).</summary>
    [Range(1, 65535)]
    public int HttpPort { get; set; } = 8080;

    /// <summary>
    /// The address other silos and clients reach this silo at: an IP address or a host name (default 127.0.0.1).
    /// </summary>
    [Required]
    public string AdvertisedHost { get; set; } = "127.0.0.1";

    /// <summary>
    /// Listen on every interface instead of loopback only, as a container must. Off by default: nothing listens
    /// beyond loopback unless configured.
    /// </summary>
    public bool ListenOnAnyAddress { get; set; }

    /// <summary>
    /// Run as a pod of a Kubernetes cluster (Orleans' Kubernetes hosting): the silo is named after its pod, advertises
    /// the pod's IP, and silos whose pods are gone are declared dead. Off by default; the shipped silo only
    /// (<c>deploy/kubernetes</c>, docs/operations.md), which then needs <see cref="ListenOnAnyAddress"/> and TLS.
    /// </summary>
    public bool KubernetesHosting { get; set; }

    /// <summary>
    /// Azure Storage connection string. The default is the local emulator on its standard ports
    /// (Azurite: blob 10000, queue 10001, table 10002).
    /// </summary>
    [Required]
    public string Storage { get; set; } = "UseDevelopmentStorage=true";
}

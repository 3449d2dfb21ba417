using System.Net;
using AgentSecurity.Hosting;
using Microsoft.Extensions.Options;
using Orleans.Hosting.Kubernetes;

namespace AgentSecurity.Silo;

/// <summary>
/// Refuses to start a silo in Kubernetes hosting (<see cref="SiloHostOptions.KubernetesHosting"/>) that would not be
/// what its pod says: one that keeps to loopback, names an advertised host that would be ignored, lacks the pod's name,
/// namespace or IP from the downward API (Orleans would guess them from the machine name and DNS), or is given a service
/// or cluster id through Orleans' own variables that differs from its own (Orleans' Kubernetes hosting lets
/// <c>ORLEANS_SERVICE_ID</c> win, and the service id names the kernel's storage: the silo and <c>agentsec</c> would
/// then use different tables). Off, it has nothing to say. The silo checks this when it is built
/// (<see cref="ThrowIfInvalid"/>), before anything of the Kubernetes hosting is constructed.
/// </summary>
public sealed class KubernetesHostingValidator(Func<string, string?> environment) : IValidateOptions<SiloHostOptions>
{
    private const string Setting = "Silo:KubernetesHosting (AGENTSEC_KUBERNETES_HOSTING)";

    /// <exception cref="OptionsValidationException">Every failure at once, each naming its setting or variable.</exception>
    public static void ThrowIfInvalid(SiloHostOptions options, Func<string, string?> environment)
    {
        var result = new KubernetesHostingValidator(environment).Validate(null, options);
        if (result.Failed)
        {
            throw new OptionsValidationException(SiloHostOptions.SectionName, typeof(SiloHostOptions), result.Failures);
        }
    }

    public ValidateOptionsResult Validate(string? name, SiloHostOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (!options.KubernetesHosting)
        {
            return ValidateOptionsResult.Success;
        }

        var failures = new List<string>();
        if (!options.ListenOnAnyAddress)
        {
            failures.Add($"{Setting} needs Silo:ListenOnAnyAddress (AGENTSEC_LISTEN_ANY) = true: other silos, clients and the kubelet's probes reach the silo on its pod's IP");
        }

        if (!string.Equals(options.AdvertisedHost, new SiloHostOptions().AdvertisedHost, StringComparison.Ordinal))
        {
            failures.Add($"Silo:AdvertisedHost (AGENTSEC_ADVERTISED_HOST) \"{options.AdvertisedHost}\" is not used with {Setting}: the silo advertises its pod's IP ({KubernetesHostingOptions.PodIPEnvironmentVariable}); leave it unset");
        }

        foreach (var (variable, field) in new[]
        {
            (KubernetesHostingOptions.PodNameEnvironmentVariable, "metadata.name"),
            (KubernetesHostingOptions.PodNamespaceEnvironmentVariable, "metadata.namespace"),
            (KubernetesHostingOptions.PodIPEnvironmentVariable, "status.podIP"),
        })
        {
            if (string.IsNullOrWhiteSpace(environment(variable)))
            {
                failures.Add($"{variable} is not set: with {Setting} the silo takes its name, namespace and address from its pod; set it from the downward API (fieldRef {field}), as deploy/kubernetes does");
            }
        }

        if (environment(KubernetesHostingOptions.PodIPEnvironmentVariable) is { Length: > 0 } podIp && !IPAddress.TryParse(podIp, out _))
        {
            failures.Add($"{KubernetesHostingOptions.PodIPEnvironmentVariable} \"{podIp}\" is not an IP address (fieldRef status.podIP)");
        }

        Agree(KubernetesHostingOptions.ServiceIdEnvironmentVariable, "Silo:ServiceId (AGENTSEC_SERVICE_ID)", options.ServiceId, failures);
        Agree(KubernetesHostingOptions.ClusterIdEnvironmentVariable, "Silo:ClusterId (AGENTSEC_CLUSTER_ID)", options.ClusterId, failures);
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    private void Agree(string variable, string setting, string configured, List<string> failures)
    {
        if (environment(variable) is { } given && !string.IsNullOrWhiteSpace(given) && !string.Equals(given, configured, StringComparison.Ordinal))
        {
            failures.Add($"{variable} \"{given}\" differs from {setting} \"{configured}\": Orleans' Kubernetes hosting would use it, so the silo's storage names and cluster would not be the ones agentsec is given; set {setting} only");
        }
    }
}

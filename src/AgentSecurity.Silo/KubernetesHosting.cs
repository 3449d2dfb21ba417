using AgentSecurity.Hosting;
using Orleans.Configuration;

namespace AgentSecurity.Silo;

/// <summary>
/// The shipped silo in a Kubernetes pod (<see cref="SiloHostOptions.KubernetesHosting"/>, checked by
/// <see cref="KubernetesHostingValidator"/>): Orleans' Kubernetes hosting names the silo after its pod, advertises the
/// pod's IP and listens on every address of the pod; the silos it picks (two) watch the pods labelled with the cluster's
/// <c>orleans/serviceId</c> and <c>orleans/clusterId</c> and declare a silo dead as soon as its pod is deleted, rather
/// than after missed probes. Membership stays in Azure Table clustering: Kubernetes hosting is no membership provider.
/// </summary>
internal static class KubernetesHosting
{
    public static ISiloBuilder UseAgentSecurityKubernetesHosting(this ISiloBuilder silo, SiloHostOptions host)
    {
        // Ports only: the advertised address and the listening endpoints are the Kubernetes hosting's (a post-configuration
        // that fills what is left unset), so nothing here may set them.
        silo.Configure<EndpointOptions>(endpoints =>
        {
            endpoints.SiloPort = host.SiloPort;
            endpoints.GatewayPort = host.GatewayPort;
        });

        // Defaults kept on purpose: DeleteDefunctSiloPods stays off, so the role needs no "delete" on pods (deploy/kubernetes).
        return silo.UseKubernetesHosting();
    }
}

using AgentSecurity.Silo;
using AgentSecurity.Tls;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Orleans.Hosting.Kubernetes;

namespace AgentSecurity.Hosting.Tests.Kubernetes;

/// <summary>
/// The shipped silo (<see cref="SiloHost"/>, built as the program builds it, never started: no cluster and no storage
/// here) takes Orleans' Kubernetes hosting only when configured, and then only in what looks like a pod (the downward
/// API's variables set in this process) with settings the pod does not contradict.
/// </summary>
[Collection(ProcessEnvironmentCollection.Name)]
public sealed class KubernetesHostingModeTests : IDisposable
{
    private static readonly Dictionary<string, string?> Pod = new(StringComparer.Ordinal)
    {
        ["POD_NAME"] = "agentsec-silo-0",
        ["POD_NAMESPACE"] = "agentsec",
        ["POD_IP"] = "10.1.2.3",
        ["ORLEANS_SERVICE_ID"] = null,
        ["ORLEANS_CLUSTER_ID"] = null,
        ["AGENTSEC_KUBERNETES_HOSTING"] = null,
    };

    private readonly DirectoryInfo _tls = Directory.CreateTempSubdirectory("agentsec-k8s-tls-");

    public void Dispose() => _tls.Delete(recursive: true);

    [Fact]
    public async Task Build_ByDefault_DoesNotAddKubernetesHosting()
    {
        using var pod = new EnvironmentScope(Pod);
        await using var app = Build();

        Assert.False(app.Services.GetRequiredService<IOptions<SiloHostOptions>>().Value.KubernetesHosting);
        Assert.Empty(app.Services.GetServices<IConfigureOptions<KubernetesHostingOptions>>());
        Assert.Empty(app.Services.GetServices<IValidateOptions<KubernetesHostingOptions>>());
    }

    [Fact]
    public async Task Build_KubernetesHostingInAPod_AddsKubernetesHosting()
    {
        using var pod = new EnvironmentScope(Pod);
        await using var app = Build(["--Silo:KubernetesHosting=true", "--Silo:ListenOnAnyAddress=true", .. Tls()]);

        Assert.True(app.Services.GetRequiredService<IOptions<SiloHostOptions>>().Value.KubernetesHosting);
        Assert.Single(app.Services.GetServices<IConfigureOptions<KubernetesHostingOptions>>());
        Assert.Single(app.Services.GetServices<IValidateOptions<KubernetesHostingOptions>>());
    }

    [Fact]
    public void Build_KubernetesHostingFromTheEnvironmentAlias_IsOn()
    {
        using var pod = new EnvironmentScope(new Dictionary<string, string?>(Pod) { ["AGENTSEC_KUBERNETES_HOSTING"] = "true" });

        // On, and on loopback only: refused, which only the Kubernetes hosting's check does.
        var refused = Assert.Throws<OptionsValidationException>(() => Build());

        Assert.Contains(refused.Failures, f => f.StartsWith("Silo:KubernetesHosting (AGENTSEC_KUBERNETES_HOSTING) needs Silo:ListenOnAnyAddress", StringComparison.Ordinal));
    }

    [Fact]
    public void Build_KubernetesHostingOnLoopbackOnly_RefusesNamingTheSetting()
    {
        using var pod = new EnvironmentScope(Pod);

        var refused = Assert.Throws<OptionsValidationException>(() => Build(["--Silo:KubernetesHosting=true"]));

        Assert.Contains(refused.Failures, f => f.StartsWith("Silo:KubernetesHosting (AGENTSEC_KUBERNETES_HOSTING) needs Silo:ListenOnAnyAddress (AGENTSEC_LISTEN_ANY) = true", StringComparison.Ordinal));
    }

    [Fact]
    public void Build_KubernetesHostingOutsideAPod_RefusesNamingTheDownwardApiVariables()
    {
        using var pod = new EnvironmentScope(Pod.ToDictionary(p => p.Key, _ => (string?)null));

        var refused = Assert.Throws<OptionsValidationException>(() => Build(["--Silo:KubernetesHosting=true", "--Silo:ListenOnAnyAddress=true", .. Tls()]));

        Assert.Contains(refused.Failures, f => f.StartsWith("POD_NAME is not set", StringComparison.Ordinal));
        Assert.Contains(refused.Failures, f => f.StartsWith("POD_NAMESPACE is not set", StringComparison.Ordinal));
        Assert.Contains(refused.Failures, f => f.StartsWith("POD_IP is not set", StringComparison.Ordinal));
    }

    [Fact]
    public void Build_KubernetesHostingWithAnOrleansServiceIdOfItsOwn_RefusesNamingBoth()
    {
        using var pod = new EnvironmentScope(new Dictionary<string, string?>(Pod) { ["ORLEANS_SERVICE_ID"] = "another" });

        var refused = Assert.Throws<OptionsValidationException>(() => Build(["--Silo:KubernetesHosting=true", "--Silo:ListenOnAnyAddress=true", .. Tls()]));

        Assert.Contains(refused.Failures, f => f.StartsWith("ORLEANS_SERVICE_ID \"another\" differs from Silo:ServiceId (AGENTSEC_SERVICE_ID) \"agentsec\"", StringComparison.Ordinal));
    }

    /// <summary>The silo as the program builds it, in development: its audit key may then be one for its lifetime.</summary>
    private static WebApplication Build(params string[] args) => SiloHost.Build(["--environment=Development", .. args]);

    /// <summary>A silo certificate of a development CA: a silo listening beyond loopback is not built without one.</summary>
    private string[] Tls()
    {
        DevelopmentTlsFolder.Ensure(_tls.FullName, [], TimeProvider.System);
        return
        [
            $"--Silo:Tls:CertificateFile={Path.Combine(_tls.FullName, DevelopmentTlsFolder.SiloCertificate)}",
            $"--Silo:Tls:KeyFile={Path.Combine(_tls.FullName, DevelopmentTlsFolder.SiloKey)}",
            $"--Silo:Tls:CaFile={Path.Combine(_tls.FullName, DevelopmentTlsFolder.AuthorityCertificate)}",
        ];
    }
}

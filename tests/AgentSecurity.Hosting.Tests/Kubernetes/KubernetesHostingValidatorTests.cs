using AgentSecurity.Silo;
using Orleans.Hosting.Kubernetes;

namespace AgentSecurity.Hosting.Tests.Kubernetes;

public sealed class KubernetesHostingValidatorTests
{
    private static readonly Dictionary<string, string> Pod = new(StringComparer.Ordinal)
    {
        [KubernetesHostingOptions.PodNameEnvironmentVariable] = "agentsec-silo-0",
        [KubernetesHostingOptions.PodNamespaceEnvironmentVariable] = "agentsec",
        [KubernetesHostingOptions.PodIPEnvironmentVariable] = "10.1.2.3",
    };

    private static SiloHostOptions InPod() => new() { KubernetesHosting = true, ListenOnAnyAddress = true };

    [Fact]
    public void Validate_Off_SucceedsWhateverTheEnvironment() =>
        Assert.True(Validate(new SiloHostOptions(), new Dictionary<string, string>()).Succeeded);

    [Fact]
    public void Validate_PodEnvironmentAndListeningBeyondLoopback_Succeeds() =>
        Assert.True(Validate(InPod(), Pod).Succeeded);

    [Fact]
    public void Validate_OnLoopbackOnly_FailsNamingListenOnAnyAddress()
    {
        var options = InPod();
        options.ListenOnAnyAddress = false;

        Assert.Contains("Silo:ListenOnAnyAddress (AGENTSEC_LISTEN_ANY)", Validate(options, Pod).FailureMessage, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("POD_NAME", "metadata.name")]
    [InlineData("POD_NAMESPACE", "metadata.namespace")]
    [InlineData("POD_IP", "status.podIP")]
    public void Validate_PodVariableMissing_FailsNamingItsDownwardApiField(string variable, string field)
    {
        var environment = new Dictionary<string, string>(Pod);
        environment.Remove(variable);

        var failure = Validate(InPod(), environment).FailureMessage;

        Assert.Contains($"{variable} is not set", failure, StringComparison.Ordinal);
        Assert.Contains(field, failure, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_PodIpNotAnAddress_Fails() =>
        Assert.Contains("is not an IP address", Validate(InPod(), new Dictionary<string, string>(Pod) { ["POD_IP"] = "silo-0" }).FailureMessage, StringComparison.Ordinal);

    [Fact]
    public void Validate_AdvertisedHostGiven_FailsSayingThePodIpIsAdvertised()
    {
        var options = InPod();
        options.AdvertisedHost = "silo-0.agentsec.svc";

        Assert.Contains("Silo:AdvertisedHost (AGENTSEC_ADVERTISED_HOST) \"silo-0.agentsec.svc\" is not used", Validate(options, Pod).FailureMessage, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("ORLEANS_SERVICE_ID", "Silo:ServiceId (AGENTSEC_SERVICE_ID)")]
    [InlineData("ORLEANS_CLUSTER_ID", "Silo:ClusterId (AGENTSEC_CLUSTER_ID)")]
    public void Validate_OrleansIdDifferingFromTheSilos_FailsNamingBoth(string variable, string setting)
    {
        var failure = Validate(InPod(), new Dictionary<string, string>(Pod) { [variable] = "another" }).FailureMessage;

        Assert.Contains($"{variable} \"another\" differs from {setting}", failure, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_OrleansIdsEqualToTheSilos_Succeeds()
    {
        var options = InPod();

        Assert.True(Validate(options, new Dictionary<string, string>(Pod) { ["ORLEANS_SERVICE_ID"] = options.ServiceId, ["ORLEANS_CLUSTER_ID"] = options.ClusterId }).Succeeded);
    }

    private static Microsoft.Extensions.Options.ValidateOptionsResult Validate(SiloHostOptions options, IReadOnlyDictionary<string, string> environment) =>
        new KubernetesHostingValidator(name => environment.GetValueOrDefault(name)).Validate(null, options);
}

using AgentSecurity.Hosting;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace AgentSecurity.Tls.Tests;

/// <summary>
/// A silo refuses to start when it would listen beyond loopback without TLS, or when its TLS settings cannot give it a
/// certificate the other silos accept; every refusal names the setting (and its environment variable).
/// </summary>
public sealed class SiloTlsOptionsValidatorTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("agentsec-silo-tls-").FullName;
    private readonly FakeTimeProvider _time = new(TestAuthority.Start);

    public SiloTlsOptionsValidatorTests()
    {
        DevelopmentTlsFolder.Ensure(Path.Combine(_root, "cluster"), [], _time);
        DevelopmentTlsFolder.Ensure(Path.Combine(_root, "other"), [], _time);
    }

    private string File(string folder, string name) => Path.Combine(_root, folder, name);

    private SiloTlsOptions Development(string folder = "cluster", string certificate = "silo") => new()
    {
        CertificateFile = File(folder, $"{certificate}.crt"),
        KeyFile = File(folder, $"{certificate}.key"),
        CaFile = File("cluster", "ca.crt"),
    };

    private ValidateOptionsResult Validate(SiloTlsOptions tls, SiloHostOptions? host = null) =>
        new SiloTlsOptionsValidator(host ?? new SiloHostOptions(), _time).Validate(Options.DefaultName, tls);

    private static string Failure(ValidateOptionsResult result)
    {
        Assert.True(result.Failed, "the silo should refuse to start");
        return Assert.Single(result.Failures!);
    }

    [Fact]
    public void Validate_LoopbackWithoutTls_Succeeds() => Assert.True(Validate(new SiloTlsOptions()).Succeeded);

    [Theory]
    [InlineData("localhost")]
    [InlineData("::1")]
    [InlineData("127.0.0.2")]
    public void Validate_LoopbackAdvertisedHostWithoutTls_Succeeds(string host) =>
        Assert.True(Validate(new SiloTlsOptions(), new SiloHostOptions { AdvertisedHost = host }).Succeeded);

    [Fact]
    public void Validate_ListenOnAnyAddressWithoutTls_FailsNamingTheSettings()
    {
        var failure = Failure(Validate(new SiloTlsOptions(), new SiloHostOptions { ListenOnAnyAddress = true }));

        Assert.Contains("Silo:Tls:CertificateFile (AGENTSEC_TLS_CERT)", failure, StringComparison.Ordinal);
        Assert.Contains("Silo:Tls:CaFile (AGENTSEC_TLS_CA)", failure, StringComparison.Ordinal);
        Assert.Contains("beyond loopback", failure, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_KubernetesHostingWithoutTls_FailsEvenOnALoopbackAdvertisedHost()
    {
        // Orleans' Kubernetes hosting binds the silo and gateway ports to every address of the pod, whatever the advertised host.
        var failure = Failure(Validate(new SiloTlsOptions(), new SiloHostOptions { KubernetesHosting = true, AdvertisedHost = "127.0.0.1" }));

        Assert.Contains("Silo:Tls:CertificateFile (AGENTSEC_TLS_CERT)", failure, StringComparison.Ordinal);
        Assert.Contains("Silo:KubernetesHosting = True", failure, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("10.0.0.5")]
    [InlineData("0.0.0.0")]
    [InlineData("silo-0.agentsec.svc")]
    public void Validate_AdvertisedHostBeyondLoopbackWithoutTls_Fails(string host) =>
        Assert.Contains("Silo:Tls:CertificateFile", Failure(Validate(new SiloTlsOptions(), new SiloHostOptions { AdvertisedHost = host })), StringComparison.Ordinal);

    [Fact]
    public void Validate_DevelopmentCertificates_SucceedEvenBeyondLoopback()
    {
        Assert.True(Validate(Development()).Succeeded);
        Assert.True(Validate(Development(), new SiloHostOptions { ListenOnAnyAddress = true, AdvertisedHost = "10.0.0.5" }).Succeeded);
    }

    [Fact]
    public void Validate_CertificateWithoutCa_FailsNamingCaFile()
    {
        var tls = Development();
        tls.CaFile = null;

        Assert.Contains("Silo:Tls:CaFile (AGENTSEC_TLS_CA) is required", Failure(Validate(tls)), StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_KeyWithoutCertificate_FailsNamingCertificateFile()
    {
        var tls = new SiloTlsOptions { KeyFile = File("cluster", "silo.key"), CaFile = File("cluster", "ca.crt") };

        Assert.Contains("Silo:Tls:CertificateFile (AGENTSEC_TLS_CERT) is required", Failure(Validate(tls)), StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_MissingCertificateFile_FailsNamingSettingAndFile()
    {
        var tls = Development();
        tls.CertificateFile = File("cluster", "absent.crt");

        var failure = Failure(Validate(tls));

        Assert.StartsWith("Silo:Tls:CertificateFile (AGENTSEC_TLS_CERT)", failure, StringComparison.Ordinal);
        Assert.Contains("absent.crt does not exist", failure, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_MissingKeyFile_FailsNamingKeySetting()
    {
        var tls = Development();
        tls.KeyFile = File("cluster", "absent.key");

        Assert.StartsWith("Silo:Tls:KeyFile (AGENTSEC_TLS_KEY)", Failure(Validate(tls)), StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_MissingCaFile_FailsNamingCaSetting()
    {
        var tls = Development();
        tls.CaFile = File("cluster", "absent-ca.crt");

        Assert.StartsWith("Silo:Tls:CaFile (AGENTSEC_TLS_CA)", Failure(Validate(tls)), StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_CertificateOfAnotherCa_Fails()
    {
        var failure = Failure(Validate(Development(folder: "other")));

        Assert.StartsWith("Silo:Tls:CertificateFile (AGENTSEC_TLS_CERT): other silos would refuse it", failure, StringComparison.Ordinal);
        Assert.Contains("not trusted by the cluster's CA", failure, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_ExpiredCertificate_Fails()
    {
        _time.Advance(DevelopmentCertificates.LeafLifetime + TimeSpan.FromDays(1));

        Assert.Contains("NotTimeValid", Failure(Validate(Development())), StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_ClientCertificateAsSilos_Fails() =>
        Assert.Contains("server authentication", Failure(Validate(Development(certificate: "client"))), StringComparison.Ordinal);

    public void Dispose() => Directory.Delete(_root, recursive: true);
}

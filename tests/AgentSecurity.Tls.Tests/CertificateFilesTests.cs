using System.Security.Cryptography.X509Certificates;

namespace AgentSecurity.Tls.Tests;

/// <summary>The certificate files an operator names: PEM with a separate or included key, PKCS#12, CA bundles; each failure names the file.</summary>
public sealed class CertificateFilesTests : IDisposable
{
    private readonly TestAuthority _ca = new();
    private readonly string _directory = Directory.CreateTempSubdirectory("agentsec-tls-files-").FullName;

    private string PathOf(string name) => Path.Combine(_directory, name);

    [Fact]
    public void LoadCertificate_PemWithSeparateKey_HasItsPrivateKey()
    {
        using var silo = _ca.Silo();
        File.WriteAllText(PathOf("silo.crt"), silo.ExportCertificatePem());
        File.WriteAllText(PathOf("silo.key"), silo.GetECDsaPrivateKey()!.ExportPkcs8PrivateKeyPem());

        using var loaded = CertificateFiles.LoadCertificate(PathOf("silo.crt"), PathOf("silo.key"));

        Assert.True(loaded.HasPrivateKey);
        Assert.Equal(silo.Thumbprint, loaded.Thumbprint);
    }

    [Fact]
    public void LoadCertificate_PemHoldingBoth_NeedsNoKeyFile()
    {
        using var silo = _ca.Silo();
        File.WriteAllText(PathOf("both.pem"), silo.ExportCertificatePem() + "\n" + silo.GetECDsaPrivateKey()!.ExportPkcs8PrivateKeyPem());

        using var loaded = CertificateFiles.LoadCertificate(PathOf("both.pem"));

        Assert.True(loaded.HasPrivateKey);
    }

    [Fact]
    public void LoadCertificate_Pkcs12WithPassword_Loads()
    {
        using var silo = _ca.Silo();
        File.WriteAllBytes(PathOf("silo.pfx"), silo.Export(X509ContentType.Pkcs12, "secret"));

        using var loaded = CertificateFiles.LoadCertificate(PathOf("silo.pfx"), password: "secret");

        Assert.True(loaded.HasPrivateKey);
        Assert.Equal(silo.Thumbprint, loaded.Thumbprint);
    }

    [Fact]
    public void LoadCertificate_PemWithoutAnyKey_IsRefused()
    {
        using var silo = _ca.Silo();
        File.WriteAllText(PathOf("silo.crt"), silo.ExportCertificatePem());

        var refused = Assert.Throws<CertificateFileException>(() => CertificateFiles.LoadCertificate(PathOf("silo.crt")));

        Assert.StartsWith(PathOf("silo.crt"), refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void LoadCertificate_KeyOfAnotherCertificate_IsRefused()
    {
        using var silo = _ca.Silo();
        using var client = _ca.Client();
        File.WriteAllText(PathOf("silo.crt"), silo.ExportCertificatePem());
        File.WriteAllText(PathOf("client.key"), client.GetECDsaPrivateKey()!.ExportPkcs8PrivateKeyPem());

        Assert.Throws<CertificateFileException>(() => CertificateFiles.LoadCertificate(PathOf("silo.crt"), PathOf("client.key")));
    }

    [Fact]
    public void LoadCertificate_MissingFile_NamesIt()
    {
        var refused = Assert.Throws<CertificateFileException>(() => CertificateFiles.LoadCertificate(PathOf("absent.crt"), PathOf("absent.key")));

        Assert.Equal(PathOf("absent.crt"), refused.File);
        Assert.Contains("does not exist", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void LoadAuthorities_Bundle_HoldsEveryCa()
    {
        using var other = new TestAuthority("another CA");
        File.WriteAllText(PathOf("ca.crt"), _ca.Certificate.ExportCertificatePem() + "\n" + other.Certificate.ExportCertificatePem());

        Assert.Equal(2, CertificateFiles.LoadAuthorities(PathOf("ca.crt")).Count);
    }

    [Fact]
    public void LoadAuthorities_LeafCertificate_IsRefused()
    {
        // A leaf as trust anchor would make every certificate it names trusted without a CA's constraints.
        using var silo = _ca.Silo();
        File.WriteAllText(PathOf("ca.crt"), silo.ExportCertificatePem());

        var refused = Assert.Throws<CertificateFileException>(() => CertificateFiles.LoadAuthorities(PathOf("ca.crt")));

        Assert.Contains("not a CA certificate", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void LoadAuthorities_NoCertificate_IsRefused()
    {
        File.WriteAllText(PathOf("ca.crt"), "not a certificate");

        Assert.Throws<CertificateFileException>(() => CertificateFiles.LoadAuthorities(PathOf("ca.crt")));
    }

    public void Dispose()
    {
        _ca.Dispose();
        Directory.Delete(_directory, recursive: true);
    }
}

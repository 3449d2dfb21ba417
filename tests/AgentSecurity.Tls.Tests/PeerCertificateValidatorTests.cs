using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace AgentSecurity.Tls.Tests;

/// <summary>
/// Who the cluster's TLS lets in: certificates of the cluster's CA, valid now, in the role their key usage names. Every
/// refusal has a positive case beside it.
/// </summary>
public sealed class PeerCertificateValidatorTests : IDisposable
{
    private readonly TestAuthority _ca = new();
    private readonly TestAuthority _other = new("another CA");

    [Fact]
    public void Check_SiloCertificateOfTheCa_IsTrustedAsSiloAndAsClient()
    {
        using var silo = _ca.Silo();

        Assert.True(_ca.Validator().Check(silo, PeerRole.Silo).Trusted);
        Assert.True(_ca.Validator().Check(silo, PeerRole.Client).Trusted);
    }

    [Fact]
    public void Check_ClientCertificateOfTheCa_IsTrustedAsClientOnly()
    {
        using var client = _ca.Client();

        Assert.True(_ca.Validator().Check(client, PeerRole.Client).Trusted);
        var asSilo = _ca.Validator().Check(client, PeerRole.Silo);
        Assert.False(asSilo.Trusted);
        Assert.Contains("server authentication", asSilo.Problem, StringComparison.Ordinal);
    }

    [Fact]
    public void Check_CertificateOfAnotherCa_IsRefused()
    {
        using var stranger = _other.Client();

        var check = _ca.Validator().Check(stranger, PeerRole.Client);

        Assert.False(check.Trusted);
        Assert.Contains("not trusted by the cluster's CA", check.Problem, StringComparison.Ordinal);
    }

    [Fact]
    public void Check_CertificateOfAnotherCa_IsRefusedEvenWithItsCaInThePresentedChain()
    {
        // What the peer sends may supply intermediates, never a trust anchor.
        using var stranger = _other.Client();
        using var presented = new X509Chain();
        presented.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        presented.ChainPolicy.CustomTrustStore.AddRange(_other.Authorities);
        presented.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        presented.ChainPolicy.VerificationTime = TestAuthority.Start.UtcDateTime;
        Assert.True(presented.Build(stranger));

        Assert.False(_ca.Validator().Check(stranger, PeerRole.Client, presented).Trusted);
    }

    [Fact]
    public void Check_SelfSignedCertificateWithTheCasName_IsRefused()
    {
        using var impostor = DevelopmentCertificates.CreateAuthority("test CA", _ca.Time);
        using var leaf = DevelopmentCertificates.Issue(impostor, PeerRole.Silo, "silo", [], _ca.Time);

        Assert.False(_ca.Validator().Check(leaf, PeerRole.Silo).Trusted);
    }

    [Fact]
    public void Check_ExpiredCertificate_IsRefusedAndValidTheMomentBefore()
    {
        using var client = _ca.Client(TimeSpan.FromDays(1));
        _ca.Time.SetUtcNow(client.NotAfter.ToUniversalTime() - TimeSpan.FromSeconds(1));
        Assert.True(_ca.Validator().Check(client, PeerRole.Client).Trusted);

        _ca.Time.SetUtcNow(client.NotAfter.ToUniversalTime() + TimeSpan.FromSeconds(1));
        var check = _ca.Validator().Check(client, PeerRole.Client);

        Assert.False(check.Trusted);
        Assert.Contains(nameof(X509ChainStatusFlags.NotTimeValid), check.Problem, StringComparison.Ordinal);
    }

    [Fact]
    public void Check_CertificateNotYetValid_IsRefused()
    {
        using var client = DevelopmentCertificates.Issue(_ca.Certificate, PeerRole.Client, "client", [], _ca.Time, notBefore: TestAuthority.Start.AddDays(2));

        Assert.False(_ca.Validator().Check(client, PeerRole.Client).Trusted);
    }

    [Fact]
    public void Check_CertificateWithoutExtendedKeyUsage_HasNoRole()
    {
        // Elsewhere a certificate without the extension is good for every usage; here it cannot pass as a silo.
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=no usage", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        using var plain = request.Create(_ca.Certificate, TestAuthority.Start, TestAuthority.Start.AddDays(30), [1, 2, 3]);

        Assert.False(_ca.Validator().Check(plain, PeerRole.Silo).Trusted);
        Assert.False(_ca.Validator().Check(plain, PeerRole.Client).Trusted);
    }

    [Fact]
    public void Check_EitherOfTwoCas_IsTrustedWhileTheCaIsRotated()
    {
        using var client = _other.Client();
        var both = new X509Certificate2Collection { _ca.Authorities[0], _other.Authorities[0] };

        Assert.True(new PeerCertificateValidator(both, _ca.Time).Check(client, PeerRole.Client).Trusted);
    }

    public void Dispose()
    {
        _ca.Dispose();
        _other.Dispose();
    }
}

using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Time.Testing;

namespace AgentSecurity.Tls.Tests;

/// <summary>A development CA made in memory at a fixed time, with certificates it issues for each role.</summary>
internal sealed class TestAuthority : IDisposable
{
    public static readonly DateTimeOffset Start = new(2030, 1, 1, 0, 0, 0, TimeSpan.Zero);

    public TestAuthority(string name = "test CA")
    {
        Time = new FakeTimeProvider(Start);
        Certificate = DevelopmentCertificates.CreateAuthority(name, Time);
        Authorities = [X509CertificateLoader.LoadCertificate(Certificate.RawData)];
    }

    public FakeTimeProvider Time { get; }

    /// <summary>The CA with its private key.</summary>
    public X509Certificate2 Certificate { get; }

    /// <summary>The CA's certificate alone, as a CA file gives it.</summary>
    public X509Certificate2Collection Authorities { get; }

    public X509Certificate2 Silo(TimeSpan? lifetime = null) => DevelopmentCertificates.Issue(Certificate, PeerRole.Silo, "silo", ["127.0.0.1"], Time, lifetime);

    public X509Certificate2 Client(TimeSpan? lifetime = null) => DevelopmentCertificates.Issue(Certificate, PeerRole.Client, "client", [], Time, lifetime);

    public PeerCertificateValidator Validator() => new(Authorities, Time);

    public void Dispose()
    {
        Certificate.Dispose();
        foreach (var authority in Authorities)
        {
            authority.Dispose();
        }
    }
}

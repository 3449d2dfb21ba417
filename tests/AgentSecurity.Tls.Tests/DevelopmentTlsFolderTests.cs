using System.Net;
using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Time.Testing;

namespace AgentSecurity.Tls.Tests;

/// <summary>The development CA folder that <c>agentsec tls init</c> and <c>./run.sh</c> make: complete, private, kept.</summary>
public sealed class DevelopmentTlsFolderTests : IDisposable
{
    private static readonly string[] AllFiles = ["ca.crt", "ca.key", "silo.crt", "silo.key", "client.crt", "client.key"];
    private readonly string _directory = Path.Combine(Directory.CreateTempSubdirectory("agentsec-tls-").FullName, "tls");
    private readonly FakeTimeProvider _time = new(TestAuthority.Start);

    [Fact]
    public void Ensure_NoFolder_CreatesEveryFileWithOwnerOnlyKeys()
    {
        var result = DevelopmentTlsFolder.Ensure(_directory, [], _time);

        Assert.All(AllFiles, file => Assert.Equal("created", result.Files[file]));
        Assert.All(AllFiles, file => Assert.True(File.Exists(Path.Combine(_directory, file)), file));
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(_directory));
            foreach (var key in AllFiles.Where(f => f.EndsWith(".key", StringComparison.Ordinal)))
            {
                Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(_directory, key)));
            }
        }
    }

    [Fact]
    public void Ensure_Again_KeepsEveryFileUnchanged()
    {
        var first = DevelopmentTlsFolder.Ensure(_directory, [], _time);
        var before = AllFiles.ToDictionary(f => f, f => File.ReadAllBytes(Path.Combine(_directory, f)));

        var second = DevelopmentTlsFolder.Ensure(_directory, ["10.1.2.3"], _time);

        Assert.All(AllFiles, file => Assert.Equal("kept", second.Files[file]));
        Assert.All(AllFiles, file => Assert.Equal(before[file], File.ReadAllBytes(Path.Combine(_directory, file))));
        Assert.Equal(first.AuthorityFingerprint, second.AuthorityFingerprint);
    }

    [Fact]
    public void Ensure_MissingClientPair_IssuesItFromTheExistingCa()
    {
        DevelopmentTlsFolder.Ensure(_directory, [], _time);
        File.Delete(Path.Combine(_directory, "client.crt"));
        File.Delete(Path.Combine(_directory, "client.key"));

        var result = DevelopmentTlsFolder.Ensure(_directory, [], _time);

        Assert.Equal("kept", result.Files["ca.crt"]);
        Assert.Equal("created", result.Files["client.crt"]);
        using var client = CertificateFiles.LoadCertificate(Path.Combine(_directory, "client.crt"), Path.Combine(_directory, "client.key"));
        Assert.True(new PeerCertificateValidator(CertificateFiles.LoadAuthorities(Path.Combine(_directory, "ca.crt")), _time).Check(client, PeerRole.Client).Trusted);
    }

    [Fact]
    public void Ensure_CertificateWithoutItsKey_IsRefusedNamingTheFile()
    {
        DevelopmentTlsFolder.Ensure(_directory, [], _time);
        File.Delete(Path.Combine(_directory, "silo.key"));

        var refused = Assert.Throws<CertificateFileException>(() => DevelopmentTlsFolder.Ensure(_directory, [], _time));

        Assert.Equal(Path.Combine(_directory, "silo.crt"), refused.File);
        Assert.Contains("silo.key", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Ensure_CertificatesWithoutTheirCa_AreRefusedRatherThanReissuedByANewCa()
    {
        DevelopmentTlsFolder.Ensure(_directory, [], _time);
        File.Delete(Path.Combine(_directory, "ca.crt"));
        File.Delete(Path.Combine(_directory, "ca.key"));

        var refused = Assert.Throws<CertificateFileException>(() => DevelopmentTlsFolder.Ensure(_directory, [], _time));

        Assert.Contains("the CA that issued it", refused.Message, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(_directory, "ca.crt")));
    }

    [Fact]
    public void Ensure_IssuedCertificates_HoldTheirRolesAndTheSilosNames()
    {
        DevelopmentTlsFolder.Ensure(_directory, ["10.1.2.3", "silo.internal"], _time);
        var validator = new PeerCertificateValidator(CertificateFiles.LoadAuthorities(Path.Combine(_directory, "ca.crt")), _time);
        using var silo = CertificateFiles.LoadCertificate(Path.Combine(_directory, "silo.crt"), Path.Combine(_directory, "silo.key"));
        using var client = CertificateFiles.LoadCertificate(Path.Combine(_directory, "client.crt"), Path.Combine(_directory, "client.key"));

        Assert.True(validator.Check(silo, PeerRole.Silo).Trusted);
        Assert.True(validator.Check(client, PeerRole.Client).Trusted);
        Assert.False(validator.Check(client, PeerRole.Silo).Trusted);
        Assert.True(silo.MatchesHostname("127.0.0.1"));
        Assert.True(silo.MatchesHostname("localhost"));
        Assert.True(silo.MatchesHostname("10.1.2.3"));
        Assert.True(silo.MatchesHostname("silo.internal"));
        Assert.False(client.MatchesHostname("127.0.0.1"));
        var names = silo.Extensions.OfType<X509SubjectAlternativeNameExtension>().Single().EnumerateIPAddresses().ToList();
        Assert.Contains(IPAddress.IPv6Loopback, names);
    }

    public void Dispose() => Directory.Delete(Path.GetDirectoryName(_directory)!, recursive: true);
}

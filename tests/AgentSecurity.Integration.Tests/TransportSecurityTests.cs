using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using AgentSecurity.Abstractions.Boundary;
using AgentSecurity.Integration.Tests.Infrastructure;
using AgentSecurity.Testing;
using AgentSecurity.Tls;
using Xunit.Abstractions;

namespace AgentSecurity.Integration.Tests;

/// <summary>
/// The transport of the boundary on a real silo process: the silo speaks only mutual TLS with certificates of the
/// cluster's CA, a client certificate cannot open a silo-to-silo connection, and a silo that would listen beyond loopback
/// without TLS does not start. (Every other test of this collection runs over TLS too.)
/// </summary>
[Collection(ClusterProcessCollection.Name)]
public sealed class TransportSecurityTests(ClusterProcessFixture cluster, ITestOutputHelper output)
{
    /// <summary>Long enough for a client the silo accepts to connect many times over (it takes a second or two).</summary>
    private static readonly TimeSpan ConnectLimit = TimeSpan.FromSeconds(20);

    private X509Certificate2Collection ClusterCa => CertificateFiles.LoadAuthorities(Path.Combine(cluster.TlsDirectory, DevelopmentTlsFolder.AuthorityCertificate));

    /// <summary>A development CA of a stranger's own, in a folder of its own.</summary>
    private string OtherCa()
    {
        var directory = cluster.PathOf($"tls-other-{Guid.NewGuid():N}");
        DevelopmentTlsFolder.Ensure(directory, [], TimeProvider.System);
        return directory;
    }

    [Fact]
    public async Task Client_WithCertificateOfAnotherCa_GetsAConnectionFailureNotAnAnswer()
    {
        var other = OtherCa();
        var certificate = CertificateFiles.LoadCertificate(Path.Combine(other, DevelopmentTlsFolder.ClientCertificate), Path.Combine(other, DevelopmentTlsFolder.ClientKey));
        // The stranger trusts the cluster's CA (so it accepts the gateway) and its own (so it may present its certificate):
        // only the silo's own check can stop it.
        var trusted = ClusterCa;
        trusted.AddRange(CertificateFiles.LoadAuthorities(Path.Combine(other, DevelopmentTlsFolder.AuthorityCertificate)));
        var stranger = new ClusterCertificates(certificate, trusted);

        var failure = await ConnectAndCallAsync(stranger);

        Assert.IsNotType<CallRefusedException>(failure);
        var fingerprint = certificate.GetCertHashString(HashAlgorithmName.SHA256);
        await WaitForSiloOutputAsync($"(SHA-256 {fingerprint}) is not trusted by the cluster's CA");
        Assert.Contains("[8001]", cluster.Silo.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Client_InClearText_GetsAConnectionFailureNotAnAnswer()
    {
        var failure = await ConnectAndCallAsync(tls: null);

        Assert.IsNotType<CallRefusedException>(failure);
    }

    [Fact]
    public async Task Client_WithTheClusterCertificate_IsAnswered()
    {
        // The positive case beside the two refusals, through the same path.
        await using var host = await OrleansClientHost.StartAsync(cluster.Gateway, cluster.ClusterId, cluster.Operator, cluster.ClientTls);

        var status = await host.Client.GetStatusAsync("tls-" + Guid.NewGuid().ToString("N")[..8], "bot");

        Assert.Equal(Abstractions.AgentState.Active, status.State);
    }

    [Fact]
    public async Task Agentsec_TrustingAnotherCa_ExitsUnreachableNamingTheGatewaysCertificate()
    {
        var other = OtherCa();
        var result = await cluster.RunAsync("dotnet", [BuiltArtifacts.Cli, "status", "tls/bot", "--json"], new Dictionary<string, string>
        {
            ["AGENTSEC_TLS_CERT"] = Path.Combine(other, DevelopmentTlsFolder.ClientCertificate),
            ["AGENTSEC_TLS_KEY"] = Path.Combine(other, DevelopmentTlsFolder.ClientKey),
            ["AGENTSEC_TLS_CA"] = Path.Combine(other, DevelopmentTlsFolder.AuthorityCertificate),
        });

        Assert.True(result.ExitCode == 3, result.ToString());
        Assert.Equal("unavailable", result.Field("error"));
        Assert.Contains("\"CN=agentsec silo\"", result.Field("message"), StringComparison.Ordinal);
        Assert.Contains("not trusted", result.Field("message"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task SiloPort_ClientCertificate_IsRefusedWhereASilosCertificateIsAccepted()
    {
        using var silo = CertificateFiles.LoadCertificate(Path.Combine(cluster.TlsDirectory, DevelopmentTlsFolder.SiloCertificate), Path.Combine(cluster.TlsDirectory, DevelopmentTlsFolder.SiloKey));
        using var client = CertificateFiles.LoadCertificate(Path.Combine(cluster.TlsDirectory, DevelopmentTlsFolder.ClientCertificate), Path.Combine(cluster.TlsDirectory, DevelopmentTlsFolder.ClientKey));

        // A silo that accepts a connection on its silo port sends its preamble at once; one that refuses closes it.
        Assert.True(await BytesFromSiloPortAsync(silo) > 0, "a silo's certificate opens a silo-to-silo connection");
        Assert.Equal(0, await BytesFromSiloPortAsync(client));
        await WaitForSiloOutputAsync("Refused a TLS connection whose peer should be a Silo");
    }

    [Fact]
    public async Task Silo_ListeningOnAnyAddressWithoutTls_ExitsNonZeroNamingTheSetting()
    {
        // No TLS settings at all: only the listening address differs from a silo that would start on loopback.
        using var silo = new SiloProcess(cluster.StorageConnectionString, cluster.Operator.Did.Value, $"notls-{Guid.NewGuid():N}"[..20], cluster.AuditKeyFile,
            new Dictionary<string, string> { ["AGENTSEC_LISTEN_ANY"] = "true" });

        var exitCode = await silo.RunToExitAsync(TimeSpan.FromSeconds(90));

        Assert.True(exitCode != 0, silo.Output);
        Assert.Contains("Silo:Tls:CertificateFile (AGENTSEC_TLS_CERT) and Silo:Tls:CaFile (AGENTSEC_TLS_CA) are required: this silo listens beyond loopback", silo.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Silo_ListeningOnAnyAddressWithTls_ServesHttpOnlyOverHttpsAndGuardsTheMetrics()
    {
        // Beyond loopback the HTTP port carries bearer sessions: it must be HTTPS, with the silo's certificate.
        var tls = cluster.TlsDirectory;
        using var silo = new SiloProcess(cluster.StorageConnectionString, cluster.Operator.Did.Value, $"https-{Guid.NewGuid():N}"[..20], cluster.AuditKeyFile,
            new Dictionary<string, string>
            {
                ["AGENTSEC_LISTEN_ANY"] = "true",
                ["AGENTSEC_TLS_CERT"] = Path.Combine(tls, DevelopmentTlsFolder.SiloCertificate),
                ["AGENTSEC_TLS_KEY"] = Path.Combine(tls, DevelopmentTlsFolder.SiloKey),
                ["AGENTSEC_TLS_CA"] = Path.Combine(tls, DevelopmentTlsFolder.AuthorityCertificate),
            });
        var validator = new PeerCertificateValidator(ClusterCa, TimeProvider.System);
        using var https = new HttpClient(new SocketsHttpHandler
        {
            SslOptions = new SslClientAuthenticationOptions
            {
                RemoteCertificateValidationCallback = (_, remote, chain, _) =>
                    remote is not null && validator.Check(X509CertificateLoader.LoadCertificate(remote.GetRawCertData()), PeerRole.Silo, chain).Trusted,
            },
        }) { Timeout = TimeSpan.FromSeconds(5) };

        await silo.StartAsync(https);

        using var clear = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        HttpResponseMessage? answer = null;
        var failure = await Record.ExceptionAsync(async () => answer = await clear.GetAsync(new Uri($"http://127.0.0.1:{silo.HttpPort}/healthz")));
        output.WriteLine($"clear text: {failure?.GetType().Name ?? answer?.StatusCode.ToString()}");
        Assert.True(failure is not null || answer is { IsSuccessStatusCode: false }, "the exposed HTTP port answered in clear text");
        var metrics = await https.GetAsync(new Uri($"https://127.0.0.1:{silo.HttpPort}/metrics"));
        Assert.Equal(HttpStatusCode.Unauthorized, metrics.StatusCode);
    }

    /// <summary>
    /// Starts a client and makes one call; returns what stopped it. An Orleans client whose gateway closes every connection
    /// keeps reconnecting and never finishes starting, so the start is ended after <see cref="ConnectLimit"/>; the client's
    /// own log must show that its connections failed (rather than, say, a slow answer).
    /// </summary>
    private async Task<Exception> ConnectAndCallAsync(ClusterCertificates? tls)
    {
        using var limit = new CancellationTokenSource(ConnectLimit);
        using var log = new RecordingLoggerProvider();
        var failure = await Record.ExceptionAsync(async () =>
        {
            await using var host = await OrleansClientHost.StartAsync(cluster.Gateway, cluster.ClusterId, cluster.Operator, tls, cancellation: limit.Token, log: log);
            await host.Client.GetStatusAsync("tls", "bot").WaitAsync(limit.Token);
        });
        Assert.NotNull(failure);
        output.WriteLine($"the client stopped with {failure.GetType().Name}: {failure.Message}");
        var failedConnections = log.Entries.Count(e => e.Level == Microsoft.Extensions.Logging.LogLevel.Warning
            && e.Message.StartsWith($"Connection attempt to endpoint S{cluster.Gateway}:0 failed", StringComparison.Ordinal));
        output.WriteLine($"{failedConnections} connection attempts failed");
        Assert.True(failedConnections > 0, "the client's connections to the gateway should fail: " + string.Join("\n", log.Entries.Select(e => $"{e.Level} {e.Category}: {e.Message}")));
        return failure;
    }

    private async Task<int> BytesFromSiloPortAsync(X509Certificate2 certificate)
    {
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(IPAddress.Loopback, cluster.Silo.SiloPort);
        var validator = new PeerCertificateValidator(ClusterCa, TimeProvider.System);
        await using var ssl = new SslStream(tcp.GetStream(), leaveInnerStreamOpen: false);
        await ssl.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
        {
            TargetHost = string.Empty,
            ClientCertificates = [certificate],
            EnabledSslProtocols = SslProtocols.Tls13,
            RemoteCertificateValidationCallback = (_, remote, chain, _) =>
                remote is not null && validator.Check(X509CertificateLoader.LoadCertificate(remote.GetRawCertData()), PeerRole.Silo, chain).Trusted,
        });
        var buffer = new byte[64];
        try
        {
            // TLS 1.3 finishes the client's side of the handshake before the server judges the client's certificate:
            // a refusal arrives as an alert or a closed stream on the first read.
            return await ssl.ReadAsync(buffer).AsTask().WaitAsync(ConnectLimit);
        }
        catch (Exception e) when (e is IOException or AuthenticationException)
        {
            output.WriteLine($"the silo port closed the connection: {e.GetType().Name}: {e.Message}");
            return 0;
        }
    }

    // The silo logs the refusal before it closes the connection, and writes its log asynchronously: the line comes soon.
    private Task WaitForSiloOutputAsync(string text) => cluster.Silo.WaitForOutputAsync(text, TimeSpan.FromSeconds(30));
}

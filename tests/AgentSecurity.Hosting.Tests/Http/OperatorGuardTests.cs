using System.Net;
using AgentSecurity.Grains.Boundary;
using AgentSecurity.Grains.Telemetry;
using AgentSecurity.Grants;
using AgentSecurity.Grants.Access;
using AgentSecurity.Grants.Crypto;
using AgentSecurity.Hosting.Http;
using AgentSecurity.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Configuration;

namespace AgentSecurity.Hosting.Tests.Http;

/// <summary>
/// The dashboard and the metrics behind the operator when the silo listens beyond loopback, on an in-process test server
/// (the silo process of the integration tests listens on loopback only). Sessions are real signed sessions, verified as
/// the boundary verifies them; who may see every tenant is the gate's answer.
/// </summary>
public sealed class OperatorGuardTests
{
    private static readonly SigningKey Operator = TestKeys.Operator;
    private static readonly SigningKey Auditor = TestKeys.FromByte(0x61); // an access document for "*" with audit
    private static readonly SigningKey Service = TestKeys.Stranger;

    [Theory]
    [InlineData("/dashboard")]
    [InlineData("/dashboard/ClusterStats")]
    [InlineData("/DASHBOARD/index.html")]
    [InlineData("/metrics")]
    public async Task Exposed_GuardedPathWithoutASession_Is401WithABearerChallenge(string path)
    {
        await using var server = await ServerAsync(exposed: true);

        var response = await server.GetTestClient().GetAsync(new Uri(path, UriKind.Relative));

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("Bearer realm=\"agentsec\"", response.Headers.WwwAuthenticate.ToString());
        Assert.Contains($"\"error\":\"{ReasonCodes.Unauthenticated}\"", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Exposed_GuardedPathWithABadSession_Is401InvalidToken()
    {
        await using var server = await ServerAsync(exposed: true);

        var response = await GetAsync(server, "/metrics", "Bearer not-a-session");

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Contains("error=\"invalid_token\"", response.Headers.WwwAuthenticate.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Exposed_GuardedPathForAPrincipalWithoutEveryTenant_Is403()
    {
        await using var server = await ServerAsync(exposed: true);

        var response = await GetAsync(server, "/dashboard/ClusterStats", BearerOf(Service));

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Contains($"\"error\":\"{ReasonCodes.Forbidden}\"", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("/dashboard/ClusterStats")]
    [InlineData("/metrics")]
    public async Task Exposed_GuardedPathForTheOperatorOrAnAuditorOfEveryTenant_IsServed(string path)
    {
        await using var server = await ServerAsync(exposed: true);

        Assert.Equal(HttpStatusCode.OK, (await GetAsync(server, path, BearerOf(Operator))).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await GetAsync(server, path, BearerOf(Auditor))).StatusCode);
    }

    [Theory]
    [InlineData("/healthz")]
    [InlineData("/dashboards")]
    public async Task Exposed_PathsOutsideTheGuard_AreOpen(string path)
    {
        await using var server = await ServerAsync(exposed: true);

        Assert.Equal(HttpStatusCode.OK, (await server.GetTestClient().GetAsync(new Uri(path, UriKind.Relative))).StatusCode);
    }

    [Theory]
    [InlineData("/dashboard/ClusterStats")]
    [InlineData("/metrics")]
    [InlineData("/healthz")]
    public async Task Loopback_EveryPath_IsOpen(string path)
    {
        await using var server = await ServerAsync(exposed: false);

        Assert.Equal(HttpStatusCode.OK, (await server.GetTestClient().GetAsync(new Uri(path, UriKind.Relative))).StatusCode);
    }

    /// <summary>
    /// DNS rebinding: a page of another site whose name resolves to 127.0.0.1 is a request from this machine (the
    /// operator's browser) that names that site. Found by a red-team review: only the console refused it.
    /// </summary>
    [Theory]
    [InlineData("/dashboard/ClusterStats", "dashboard.attacker.example")]
    [InlineData("/dashboard/Trace", "dashboard.attacker.example")]
    [InlineData("/metrics", "attacker.example")]
    [InlineData("/security", "localhost.attacker.example")]
    [InlineData("/metrics", "127.0.0.1.nip.io")]
    public async Task Loopback_NamingAnotherHostWithoutASession_Is403(string path, string host)
    {
        await using var server = await ServerAsync(exposed: false);

        var response = await GetNamingAsync(server, path, host);

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Contains("names this machine", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("localhost")]
    [InlineData("LOCALHOST:8080")]
    [InlineData("127.0.0.1:8080")]
    [InlineData("[::1]:8080")]
    public async Task Loopback_NamingThisMachine_IsOpen(string host)
    {
        await using var server = await ServerAsync(exposed: false);

        Assert.Equal(HttpStatusCode.OK, (await GetNamingAsync(server, "/dashboard/ClusterStats", host)).StatusCode);
    }

    [Fact]
    public async Task Loopback_NamingAnotherHostWithTheOperatorsSession_IsServedAndWithAStrangersIs403()
    {
        await using var server = await ServerAsync(exposed: false);

        Assert.Equal(HttpStatusCode.OK, (await GetNamingAsync(server, "/metrics", "silo.example.com", BearerOf(Operator))).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await GetNamingAsync(server, "/metrics", "silo.example.com", BearerOf(Service))).StatusCode);
    }

    [Theory]
    [InlineData("/dashboard/ClusterStats")]
    [InlineData("/metrics")]
    public async Task Loopback_RequestFromAnotherMachine_Is401(string path)
    {
        await using var server = await ServerAsync(exposed: false, peer: IPAddress.Parse("10.1.2.3"));

        Assert.Equal(HttpStatusCode.Unauthorized, (await server.GetTestClient().GetAsync(new Uri(path, UriKind.Relative))).StatusCode);
    }

    [Theory]
    [InlineData("Forwarded", "for=203.0.113.7")]
    [InlineData("X-Forwarded-For", "203.0.113.7")]
    [InlineData("X-Forwarded-Host", "silo.example.com")]
    [InlineData("X-Real-IP", "203.0.113.7")]
    public async Task Loopback_RequestAProxyForwarded_Is401(string header, string value)
    {
        await using var server = await ServerAsync(exposed: false);
        var request = new HttpRequestMessage(HttpMethod.Get, new Uri("/dashboard/ClusterStats", UriKind.Relative));
        request.Headers.TryAddWithoutValidation(header, value);

        Assert.Equal(HttpStatusCode.Unauthorized, (await server.GetTestClient().SendAsync(request)).StatusCode);
    }

    [Fact]
    public async Task Loopback_RequestForwardedByTheOperator_IsServed()
    {
        await using var server = await ServerAsync(exposed: false);
        var request = new HttpRequestMessage(HttpMethod.Get, new Uri("/metrics", UriKind.Relative));
        request.Headers.TryAddWithoutValidation("X-Forwarded-For", "203.0.113.7");
        request.Headers.TryAddWithoutValidation("Authorization", BearerOf(Operator));

        Assert.Equal(HttpStatusCode.OK, (await server.GetTestClient().SendAsync(request)).StatusCode);
    }

    [Theory]
    [InlineData("::1")]
    [InlineData("::ffff:127.0.0.1")]
    [InlineData("127.0.0.2")]
    public async Task Loopback_LoopbackPeerInAnySpelling_IsOpen(string peer)
    {
        await using var server = await ServerAsync(exposed: false, peer: IPAddress.Parse(peer));

        Assert.Equal(HttpStatusCode.OK, (await server.GetTestClient().GetAsync(new Uri("/metrics", UriKind.Relative))).StatusCode);
    }

    [Fact]
    public async Task Loopback_PeerUnknown_Is401()
    {
        await using var server = await ServerAsync(exposed: false, peer: null);

        Assert.Equal(HttpStatusCode.Unauthorized, (await server.GetTestClient().GetAsync(new Uri("/metrics", UriKind.Relative))).StatusCode);
    }

    [Fact]
    public async Task Exposed_GateThatCannotDecide_Is503AndNeverServes()
    {
        await using var server = await ServerAsync(exposed: true, gate: new TestGate(unavailable: true));

        var response = await GetAsync(server, "/metrics", BearerOf(Auditor));

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Contains($"\"error\":\"{ReasonCodes.Unavailable}\"", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    private static string BearerOf(SigningKey key) =>
        BearerSession.HeaderValue(TestDocuments.Session(key.Did.Value, "agentsec", DateTimeOffset.UtcNow.AddMinutes(-1)).SignWith(key));

    /// <summary>A request that names <paramref name="host"/> (a page of that site, once its name resolves here).</summary>
    private static Task<HttpResponseMessage> GetNamingAsync(WebApplication server, string path, string host, string? authorization = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, new Uri(path, UriKind.Relative));
        request.Headers.Host = host;
        if (authorization is not null)
        {
            request.Headers.TryAddWithoutValidation("Authorization", authorization);
        }

        return server.GetTestClient().SendAsync(request);
    }

    private static Task<HttpResponseMessage> GetAsync(WebApplication server, string path, string authorization)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, new Uri(path, UriKind.Relative));
        request.Headers.TryAddWithoutValidation("Authorization", authorization);
        return server.GetTestClient().SendAsync(request);
    }

    /// <summary>The silo's HTTP API with stand-ins for the dashboard, the metrics and the health endpoint.</summary>
    private static Task<WebApplication> ServerAsync(bool exposed, IBoundaryGate? gate = null) => ServerAsync(exposed, IPAddress.Loopback, gate);

    /// <summary>The same, its requests coming from <paramref name="peer"/> (the test server sets no peer address itself).</summary>
    private static async Task<WebApplication> ServerAsync(bool exposed, IPAddress? peer, IBoundaryGate? gate = null)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseTestServer();
        builder.Services.AddMetrics();
        builder.Services.AddSingleton<AgentSecurityMetrics>();
        builder.Services.Configure<ClusterOptions>(o => o.ServiceId = "agentsec");
        builder.Services.Configure<SiloHostOptions>(o => o.ListenOnAnyAddress = exposed);
        builder.Services.AddSingleton<IBoundaryGate>(gate ?? new TestGate(unavailable: false));
        builder.Services.AddAgentSecurityHttp(builder.Configuration);
        var app = builder.Build();
        app.Use((http, next) =>
        {
            http.Connection.RemoteIpAddress = peer;
            return next(http);
        });
        app.MapGet("/dashboard/{**rest}", () => "dashboard");
        app.MapGet("/dashboards", () => "not the dashboard");
        app.MapGet("/metrics", () => "metrics");
        app.MapGet("/healthz", () => "Healthy");
        app.MapAgentSecurityHttp();
        await app.StartAsync();
        return app;
    }

    /// <summary>Verifies sessions as the boundary does; the operator and the auditor hold <c>audit</c> for every tenant.</summary>
    private sealed class TestGate(bool unavailable) : IBoundaryGate
    {
        public Result<string> Authenticate(string? session) =>
            SessionVerifier.Verify(session, "agentsec", DateTimeOffset.UtcNow, TimeSpan.FromMinutes(1)) is { Succeeded: true } verified
                ? Result<string>.Ok(verified.Value.PrincipalDid.Value)
                : new Failure(ReasonCodes.Unauthenticated, "no valid session");

        public ValueTask<Failure?> AuthorizeEveryTenantAsync(string principal, AccessRights right) => ValueTask.FromResult(
            unavailable ? new Failure(ReasonCodes.Unavailable, "who may call could not be read")
            : right == AccessRights.Audit && (principal == Operator.Did.Value || principal == Auditor.Did.Value) ? null
            : new Failure(ReasonCodes.Forbidden, $"{principal} may not see every tenant"));
    }
}

using System.Net;
using System.Text.Json;
using AgentSecurity.Integration.Tests.Infrastructure;

namespace AgentSecurity.Integration.Tests.SecurityConsole;

/// <summary>
/// Who the security console answers, on a real silo on loopback: a request straight from this machine that names it,
/// as the Orleans dashboard and the metrics; not a request a proxy says it forwarded (it needs the operator's session),
/// nor one that names another host (a page of another site whose name resolves to 127.0.0.1).
/// </summary>
[Collection(ClusterProcessCollection.Name)]
public sealed class SecurityConsoleHttpTests(ClusterProcessFixture cluster)
{
    [Theory]
    [InlineData("security", "text/html")]
    [InlineData("security/", "text/html")]
    [InlineData("security/console.js", "text/javascript")]
    [InlineData("security/console.css", "text/css")]
    public async Task Console_StraightFromThisMachine_ServesItsFilesWithAContentSecurityPolicy(string path, string mediaType)
    {
        using var http = HttpCallers.Client(cluster);

        using var response = await http.GetAsync(new Uri(path, UriKind.Relative));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(mediaType, response.Content.Headers.ContentType?.MediaType);
        Assert.StartsWith("default-src 'none'; script-src 'self'", string.Join(' ', response.Headers.GetValues("Content-Security-Policy")), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("security")]
    [InlineData("security/api/overview?tenant=acme")]
    [InlineData("security/api/tenants/acme/events")]
    public async Task Console_ForwardedByAProxy_IsUnauthenticated(string path)
    {
        using var http = HttpCallers.Client(cluster);
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(path, UriKind.Relative));
        request.Headers.Add("X-Forwarded-For", "203.0.113.7");

        using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    /// <summary>
    /// DNS rebinding, against every path the operator guard keeps: the console, and (a red-team review found them open
    /// to it) the Orleans dashboard with its live log of every tenant, and the metrics.
    /// </summary>
    [Theory]
    [InlineData("security")]
    [InlineData("security/api/tenants/acme/events")]
    [InlineData("dashboard/ClusterStats")]
    [InlineData("dashboard/Trace")]
    [InlineData("metrics")]
    public async Task GuardedPaths_NamingAnotherHost_AreForbidden(string path)
    {
        using var http = HttpCallers.Client(cluster);
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(path, UriKind.Relative));
        request.Headers.Host = "console.attacker.example";

        using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
    }

    [Fact]
    public async Task Overview_OfATenantThatDoesNotExist_SaysSoAndOfANameThatIsNoTenantId_Is400()
    {
        using var http = HttpCallers.Client(cluster);

        using var missing = await http.GetAsync(new Uri("security/api/overview?tenant=no-such-tenant-here", UriKind.Relative));
        using var invalid = await http.GetAsync(new Uri("security/api/overview?tenant=Not_A_Tenant", UriKind.Relative));

        Assert.Equal(HttpStatusCode.OK, missing.StatusCode);
        using var overview = JsonDocument.Parse(await missing.Content.ReadAsStringAsync());
        var tenant = Assert.Single(overview.RootElement.GetProperty("tenants").EnumerateArray());
        Assert.Equal("no-such-tenant-here", tenant.GetProperty("tenant").GetString());
        Assert.False(tenant.GetProperty("exists").GetBoolean());
        Assert.Equal(HttpStatusCode.BadRequest, invalid.StatusCode);
    }
}

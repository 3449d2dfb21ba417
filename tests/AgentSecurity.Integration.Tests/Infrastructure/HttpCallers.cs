using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using AgentSecurity.Testing;

namespace AgentSecurity.Integration.Tests.Infrastructure;

/// <summary>A principal calling the silo's HTTP API with a session signed by the independent Node.js signer (tests/interop).</summary>
internal sealed record NodeCaller(string Did, string Session, string Bearer);

/// <summary>Tenants, grants and access documents signed by the built <c>agentsec</c> (applied through the fixture), and sessions made by Node, for the HTTP tests.</summary>
internal static class HttpCallers
{
    /// <summary>A session signed by <c>tests/interop/sign-session.mjs</c> for a fresh key (or the key of <paramref name="seedHex"/>).</summary>
    public static async Task<NodeCaller> NodeSessionAsync(ClusterProcessFixture cluster, string? seedHex = null, string audience = "agentsec", int lifetimeSeconds = 3600)
    {
        var script = Path.Combine(RepositoryPaths.Root, "tests", "interop", "sign-session.mjs");
        var seed = seedHex ?? Convert.ToHexString(RandomNumberGenerator.GetBytes(32));
        var signed = await cluster.RunAsync("node", [script, seed, audience, $"{lifetimeSeconds}"]);
        Assert.True(signed.ExitCode == 0, signed.ToString());
        return new NodeCaller(signed.Field("did"), signed.Field("session"), signed.Field("bearer"));
    }

    /// <summary>
    /// A tenant with a root key and agent "bot", whose grant reads files under /data and calls the LLM; returns the tenant
    /// and the root's key file.
    /// </summary>
    public static async Task<(string Tenant, string RootKey)> TenantAsync(ClusterProcessFixture cluster, string prefix)
    {
        var tenant = $"{prefix}-{Guid.NewGuid():N}"[..24];
        var rootKey = cluster.PathOf($"{tenant}-root.key");
        var root = (await cluster.AgentsecAsync("key", "new", "--out", rootKey, "--json")).Field("did");
        await cluster.CreateTenantAsync(tenant, root);
        var grant = cluster.PathOf($"{tenant}-bot.json");
        await cluster.AgentsecAsync("grant", "sign", "--key", rootKey, "--tenant", tenant, "--agent", "bot", "--fs", "read", "--scope", "fileSystem=/data/**", "--llm", "--out", grant);
        await cluster.ApplyGrantFileAsync(grant);
        return (tenant, rootKey);
    }

    /// <summary>An access document for <paramref name="principal"/> in <paramref name="tenant"/>, made with <c>agentsec access grant</c> and applied.</summary>
    public static async Task GrantAccessAsync(ClusterProcessFixture cluster, string rootKey, string tenant, string principal, string rights)
    {
        var file = cluster.PathOf($"{tenant}-access-{Guid.NewGuid():N}.json");
        var signed = await cluster.AgentsecAsync("access", "grant", "--key", rootKey, "--tenant", tenant, "--principal", principal, "--allow", rights, "--expires-in", "1h", "--out", file, "--json");
        Assert.True(signed.ExitCode == 0, signed.ToString());
        await cluster.ApplyAccessFileAsync(file);
    }

    /// <summary>A bearer of any text, encoded as the contract says (for sessions made wrong on purpose).</summary>
    public static string BearerOf(string session) => "Bearer " + Grants.Encoding.Base64Url.Encode(Encoding.UTF8.GetBytes(session));

    /// <summary>An HTTP client of the silo; no timeout of its own (event streams stay open), each test bounds its waits.</summary>
    public static HttpClient Client(ClusterProcessFixture cluster) => new() { BaseAddress = cluster.Http, Timeout = Timeout.InfiniteTimeSpan };

    /// <summary>A JSON POST with an optional Authorization header value.</summary>
    public static HttpRequestMessage Post(string path, string json, string? authorization, string contentType = "application/json")
    {
        var request = new HttpRequestMessage(HttpMethod.Post, new Uri(path.TrimStart('/'), UriKind.Relative))
        {
            Content = new StringContent(json, Encoding.UTF8, new MediaTypeHeaderValue(contentType)),
        };
        if (authorization is not null)
        {
            request.Headers.TryAddWithoutValidation("Authorization", authorization);
        }

        return request;
    }
}

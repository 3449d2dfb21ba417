using System.Net;
using System.Text.Json;
using AgentSecurity.Grants;
using AgentSecurity.Integration.Tests.Infrastructure;

namespace AgentSecurity.Integration.Tests;

/// <summary>
/// The AuthZEN 1.0 access evaluation API on a real silo process, called as a PEP outside .NET would: with a session signed
/// by the independent Node.js signer. A denial is 200 with <c>"decision": false</c>; no valid session is 401; a caller
/// without the <c>check</c> right for the agent is 403, refused by the same trust boundary as a .NET client.
/// </summary>
[Collection(ClusterProcessCollection.Name)]
public sealed class AuthZenHttpTests(ClusterProcessFixture cluster)
{
    private static string Evaluation(string tenant, string capability, string resource) => $$$"""
        {"subject": {"type": "agent", "id": "{{{tenant}}}/bot"}, "action": {"name": "{{{capability}}}"}, "resource": {"type": "file", "id": "{{{resource}}}"}}
        """;

    private async Task<(string Tenant, string RootKey, NodeCaller Service)> ServiceWithCheckAsync(string rights = "check")
    {
        var (tenant, rootKey) = await HttpCallers.TenantAsync(cluster, "az");
        var service = await HttpCallers.NodeSessionAsync(cluster);
        await HttpCallers.GrantAccessAsync(cluster, rootKey, tenant, service.Did, rights);
        return (tenant, rootKey, service);
    }

    [Fact]
    public async Task Evaluation_NodeSignedSessionWithTheCheckRight_AnswersAllowedAndDenied()
    {
        var (tenant, _, service) = await ServiceWithCheckAsync();
        using var http = HttpCallers.Client(cluster);
        using var allowedRequest = HttpCallers.Post("/access/v1/evaluation", Evaluation(tenant, "fileSystem:read", "/data/report.csv"), service.Bearer);
        allowedRequest.Headers.Add("X-Request-ID", "bfe9eb29-ab87-4ca3-be83-a1d5d8305716");

        using var allowed = await http.SendAsync(allowedRequest);
        using var denied = await http.SendAsync(HttpCallers.Post("/access/v1/evaluation", Evaluation(tenant, "fileSystem:write", "/data/report.csv"), service.Bearer));
        using var outOfScope = await http.SendAsync(HttpCallers.Post("/access/v1/evaluation", Evaluation(tenant, "fileSystem:read", "/etc/passwd"), service.Bearer));

        Assert.Equal(HttpStatusCode.OK, allowed.StatusCode);
        Assert.Equal("application/json", allowed.Content.Headers.ContentType?.MediaType);
        Assert.Equal("bfe9eb29-ab87-4ca3-be83-a1d5d8305716", Assert.Single(allowed.Headers.GetValues("X-Request-ID")));
        var yes = await JsonAsync(allowed);
        Assert.True(yes.GetProperty("decision").GetBoolean());
        Assert.Equal(ReasonCodes.Allowed, yes.GetProperty("context").GetProperty("reason").GetString());
        Assert.False(string.IsNullOrEmpty(yes.GetProperty("context").GetProperty("grantId").GetString()));
        Assert.Equal((HttpStatusCode.OK, false, ReasonCodes.CapabilityNotGranted), await DecisionAsync(denied));
        Assert.Equal((HttpStatusCode.OK, false, ReasonCodes.OutOfScope), await DecisionAsync(outOfScope));
    }

    [Fact]
    public async Task Evaluation_WithoutASession_Is401WithABearerChallenge()
    {
        var (tenant, _, _) = await ServiceWithCheckAsync();
        using var http = HttpCallers.Client(cluster);

        using var response = await http.SendAsync(HttpCallers.Post("/access/v1/evaluation", Evaluation(tenant, "fileSystem:read", "/data/a"), authorization: null));

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("Bearer realm=\"agentsec\"", response.Headers.WwwAuthenticate.ToString());
        Assert.Equal(ReasonCodes.Unauthenticated, (await JsonAsync(response)).GetProperty("error").GetString());
    }

    public static TheoryData<string> BadSessions => ["tampered", "another audience", "expired", "padded base64", "not a session"];

    [Theory]
    [MemberData(nameof(BadSessions))]
    public async Task Evaluation_WithABadSession_Is401InvalidToken(string bad)
    {
        var (tenant, _, service) = await ServiceWithCheckAsync();
        var bearer = bad switch
        {
            "tampered" => HttpCallers.BearerOf(service.Session.Replace(service.Did, (await HttpCallers.NodeSessionAsync(cluster)).Did, StringComparison.Ordinal)),
            "another audience" => (await HttpCallers.NodeSessionAsync(cluster, audience: "another-cluster")).Bearer,
            "expired" => (await HttpCallers.NodeSessionAsync(cluster, lifetimeSeconds: 1)).Bearer, // issued 5 s ago for 1 s
            "padded base64" => service.Bearer + "==",
            _ => HttpCallers.BearerOf("{\"type\": \"agentsec.session.v1\"}"),
        };
        using var http = HttpCallers.Client(cluster);

        using var response = await http.SendAsync(HttpCallers.Post("/access/v1/evaluation", Evaluation(tenant, "fileSystem:read", "/data/a"), bearer));

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Contains("error=\"invalid_token\"", response.Headers.WwwAuthenticate.ToString(), StringComparison.Ordinal);
        Assert.Equal(ReasonCodes.Unauthenticated, (await JsonAsync(response)).GetProperty("error").GetString());
    }

    [Fact]
    public async Task Evaluation_ByTenantBsServiceOnTenantA_Is403ForbiddenByTheBoundary()
    {
        var (tenantA, _, _) = await ServiceWithCheckAsync();
        var (tenantB, _, serviceOfB) = await ServiceWithCheckAsync();
        using var http = HttpCallers.Client(cluster);

        using var own = await http.SendAsync(HttpCallers.Post("/access/v1/evaluation", Evaluation(tenantB, "fileSystem:read", "/data/a"), serviceOfB.Bearer));
        using var other = await http.SendAsync(HttpCallers.Post("/access/v1/evaluation", Evaluation(tenantA, "fileSystem:read", "/data/a"), serviceOfB.Bearer));

        Assert.Equal((HttpStatusCode.OK, true, ReasonCodes.Allowed), await DecisionAsync(own));
        Assert.Equal(HttpStatusCode.Forbidden, other.StatusCode);
        var body = await JsonAsync(other);
        Assert.Equal(ReasonCodes.Forbidden, body.GetProperty("error").GetString());
        Assert.Contains(serviceOfB.Did, body.GetProperty("message").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Evaluation_ByAServiceWithOnlyTheAuditRight_Is403()
    {
        var (tenant, _, auditor) = await ServiceWithCheckAsync(rights: "audit");
        using var http = HttpCallers.Client(cluster);

        using var response = await http.SendAsync(HttpCallers.Post("/access/v1/evaluation", Evaluation(tenant, "fileSystem:read", "/data/a"), auditor.Bearer));

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
    }

    [Fact]
    public async Task Evaluations_TopLevelDefaults_AreDecidedInOrderUnderEachSemantic()
    {
        var (tenant, _, service) = await ServiceWithCheckAsync();
        using var http = HttpCallers.Client(cluster);
        string Batch(string semantic, params string[] resources) => $$$"""
            {"subject": {"type": "agent", "id": "{{{tenant}}}/bot"}, "action": {"name": "fileSystem:read"},
             "options": {"evaluations_semantic": "{{{semantic}}}"},
             "evaluations": [{{{Items(resources)}}}]}
            """;
        static string Items(string[] resources) => string.Join(", ", resources.Select(r => "{\"resource\": {\"type\": \"file\", \"id\": \"" + r + "\"}}"));

        var all = await DecisionsAsync(http, Batch("execute_all", "/data/1", "/etc/2", "/data/3"), service.Bearer);
        var denyFirst = await DecisionsAsync(http, Batch("deny_on_first_deny", "/data/1", "/etc/2", "/data/3"), service.Bearer);
        var permitFirst = await DecisionsAsync(http, Batch("permit_on_first_permit", "/etc/1", "/data/2", "/data/3"), service.Bearer);

        Assert.Equal([true, false, true], all);
        Assert.Equal([true, false], denyFirst);
        Assert.Equal([false, true], permitFirst);
    }

    [Fact]
    public async Task Evaluations_AnItemForAnAgentOutsideTheCallersRights_IsDeniedWithA403Error()
    {
        var (tenantA, _, _) = await ServiceWithCheckAsync();
        var (tenantB, _, serviceOfB) = await ServiceWithCheckAsync();
        using var http = HttpCallers.Client(cluster);
        var batch = $$$"""
            {"action": {"name": "fileSystem:read"}, "resource": {"type": "file", "id": "/data/a"},
             "evaluations": [{"subject": {"type": "agent", "id": "{{{tenantB}}}/bot"}}, {"subject": {"type": "agent", "id": "{{{tenantA}}}/bot"}}]}
            """;

        using var response = await http.SendAsync(HttpCallers.Post("/access/v1/evaluations", batch, serviceOfB.Bearer));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var evaluations = (await JsonAsync(response)).GetProperty("evaluations");
        Assert.True(evaluations[0].GetProperty("decision").GetBoolean());
        Assert.False(evaluations[1].GetProperty("decision").GetBoolean());
        Assert.Equal(ReasonCodes.Forbidden, evaluations[1].GetProperty("context").GetProperty("reason").GetString());
        Assert.Equal(403, evaluations[1].GetProperty("context").GetProperty("error").GetProperty("status").GetInt32());
    }

    [Fact]
    public async Task Evaluations_WithoutAnEvaluationsArray_IsAnsweredAsOneEvaluation()
    {
        var (tenant, _, service) = await ServiceWithCheckAsync();
        using var http = HttpCallers.Client(cluster);

        using var response = await http.SendAsync(HttpCallers.Post("/access/v1/evaluations", Evaluation(tenant, "fileSystem:read", "/data/a"), service.Bearer));

        Assert.Equal((HttpStatusCode.OK, true, ReasonCodes.Allowed), await DecisionAsync(response));
    }

    [Fact]
    public async Task Requests_TheApiCannotRead_AreRefusedWithTheirStatusAndCode()
    {
        var (tenant, _, service) = await ServiceWithCheckAsync();
        using var http = HttpCallers.Client(cluster);
        var tooMany = $$$"""
            {"subject": {"type": "agent", "id": "{{{tenant}}}/bot"}, "action": {"name": "llm"},
             "evaluations": [{{{string.Join(", ", Enumerable.Repeat("""{"resource": {"type": "m", "id": ""}}""", 65))}}}]}
            """;

        var refusals = new[]
        {
            (await ErrorAsync(http, HttpCallers.Post("/access/v1/evaluation", "{\"subject\": ", service.Bearer))),
            (await ErrorAsync(http, HttpCallers.Post("/access/v1/evaluation", $$$"""{"subject": {"type": "agent", "id": "{{{tenant}}}/bot", "id": "{{{tenant}}}/x"}, "action": {"name": "llm"}, "resource": {"type": "m", "id": ""}}""", service.Bearer))),
            (await ErrorAsync(http, HttpCallers.Post("/access/v1/evaluation", $$$"""{"subject": {"type": "user", "id": "alice"}, "action": {"name": "llm"}, "resource": {"type": "m", "id": ""}}""", service.Bearer))),
            (await ErrorAsync(http, HttpCallers.Post("/access/v1/evaluations", tooMany, service.Bearer))),
            (await ErrorAsync(http, HttpCallers.Post("/access/v1/evaluation", new string(' ', 70_000) + Evaluation(tenant, "llm", ""), service.Bearer))),
            (await ErrorAsync(http, HttpCallers.Post("/access/v1/evaluation", Evaluation(tenant, "llm", ""), service.Bearer, contentType: "text/plain"))),
        };

        Assert.Equal(
            new (HttpStatusCode, string?)[]
            {
                (HttpStatusCode.BadRequest, ReasonCodes.MalformedJson),
                (HttpStatusCode.BadRequest, ReasonCodes.DuplicateMember),
                (HttpStatusCode.BadRequest, ReasonCodes.InvalidField),
                (HttpStatusCode.BadRequest, ReasonCodes.TooLarge),
                (HttpStatusCode.RequestEntityTooLarge, ReasonCodes.TooLarge),
                (HttpStatusCode.UnsupportedMediaType, ReasonCodes.InvalidRequest),
            },
            refusals);
    }

    [Fact]
    public async Task Metadata_NamesThisSilosEvaluationEndpoints()
    {
        using var http = HttpCallers.Client(cluster);

        using var response = await http.GetAsync(new Uri(".well-known/authzen-configuration", UriKind.Relative));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        var metadata = await JsonAsync(response);
        var pdp = cluster.Http.ToString().TrimEnd('/');
        Assert.Equal(pdp, metadata.GetProperty("policy_decision_point").GetString());
        Assert.Equal($"{pdp}/access/v1/evaluation", metadata.GetProperty("access_evaluation_endpoint").GetString());
        Assert.Equal($"{pdp}/access/v1/evaluations", metadata.GetProperty("access_evaluations_endpoint").GetString());
    }

    private static async Task<JsonElement> JsonAsync(HttpResponseMessage response)
    {
        using var document = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return document.RootElement.Clone();
    }

    private static async Task<(HttpStatusCode, bool, string?)> DecisionAsync(HttpResponseMessage response)
    {
        var body = await JsonAsync(response);
        return (response.StatusCode, body.GetProperty("decision").GetBoolean(), body.GetProperty("context").GetProperty("reason").GetString());
    }

    private static async Task<bool[]> DecisionsAsync(HttpClient http, string batch, string bearer)
    {
        using var response = await http.SendAsync(HttpCallers.Post("/access/v1/evaluations", batch, bearer));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return (await JsonAsync(response)).GetProperty("evaluations").EnumerateArray().Select(e => e.GetProperty("decision").GetBoolean()).ToArray();
    }

    private static async Task<(HttpStatusCode, string?)> ErrorAsync(HttpClient http, HttpRequestMessage request)
    {
        using (request)
        using (var response = await http.SendAsync(request))
        {
            return (response.StatusCode, (await JsonAsync(response)).GetProperty("error").GetString());
        }
    }
}

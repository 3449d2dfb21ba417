using System.Net;
using System.Net.ServerSentEvents;
using System.Text.Json;
using AgentSecurity.Abstractions.Audit;
using AgentSecurity.Grants;
using AgentSecurity.Integration.Tests.Infrastructure;

namespace AgentSecurity.Integration.Tests;

/// <summary>
/// A tenant's security events as server-sent events from a real silo process, through the cluster (no storage keys): a
/// caller with the <c>audit</c> right sees a denial live and resumes with <c>Last-Event-ID</c>; without the right it is 403.
/// </summary>
[Collection(ClusterProcessCollection.Name)]
public sealed class EventStreamHttpTests(ClusterProcessFixture cluster)
{
    /// <summary>How long a test waits for an event before it fails (the log polls its queue every 100 ms).</summary>
    private static readonly TimeSpan EventTimeout = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task Events_WithTheAuditRight_ReceiveALiveDenialAndResumeAfterALastEventId()
    {
        var (tenant, rootKey) = await HttpCallers.TenantAsync(cluster, "sse");
        var service = await HttpCallers.NodeSessionAsync(cluster);
        await HttpCallers.GrantAccessAsync(cluster, rootKey, tenant, service.Did, "check,audit");
        using var http = HttpCallers.Client(cluster);
        using var timeout = new CancellationTokenSource(EventTimeout);

        using var stream = await OpenAsync(http, tenant, service.Bearer, lastEventId: null, timeout.Token);
        Assert.Equal(HttpStatusCode.OK, stream.StatusCode);
        Assert.Equal("text/event-stream", stream.Content.Headers.ContentType?.MediaType);
        await using var events = SseParser.Create(await stream.Content.ReadAsStreamAsync(timeout.Token)).EnumerateAsync(timeout.Token).GetAsyncEnumerator(timeout.Token);
        await Deny(http, tenant, service.Bearer, "/data/live.txt");
        var live = await NextDenialAsync(events, "/data/live.txt");

        using var resumed = await OpenAsync(http, tenant, service.Bearer, lastEventId: live.Sequence - 1, timeout.Token);
        await using var replay = SseParser.Create(await resumed.Content.ReadAsStreamAsync(timeout.Token)).EnumerateAsync(timeout.Token).GetAsyncEnumerator(timeout.Token);
        var first = await NextEventAsync(replay);

        Assert.Equal(SecurityEventTypes.CheckDenied, live.Event.GetProperty("type").GetString());
        Assert.Equal(tenant, live.Event.GetProperty("tenant").GetString());
        Assert.Equal(ReasonCodes.CapabilityNotGranted, live.Event.GetProperty("reason").GetString());
        Assert.Equal(live.Sequence, first.Sequence); // the log from the event after Last-Event-ID
        Assert.Equal(live.Event.GetProperty("id").GetString(), first.Event.GetProperty("id").GetString());
    }

    [Fact]
    public async Task Events_WithoutTheAuditRight_Is403AndWithoutASession_Is401()
    {
        var (tenant, rootKey) = await HttpCallers.TenantAsync(cluster, "sse");
        var checker = await HttpCallers.NodeSessionAsync(cluster);
        await HttpCallers.GrantAccessAsync(cluster, rootKey, tenant, checker.Did, "check");
        using var http = HttpCallers.Client(cluster);
        using var timeout = new CancellationTokenSource(EventTimeout);

        using var forbidden = await OpenAsync(http, tenant, checker.Bearer, lastEventId: null, timeout.Token);
        using var anonymous = await OpenAsync(http, tenant, authorization: null, lastEventId: null, timeout.Token);
        using var notATenant = await OpenAsync(http, "Not_A_Tenant", checker.Bearer, lastEventId: null, timeout.Token);

        Assert.Equal(HttpStatusCode.Forbidden, forbidden.StatusCode);
        Assert.Contains($"\"error\":\"{ReasonCodes.Forbidden}\"", await forbidden.Content.ReadAsStringAsync(timeout.Token), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, notATenant.StatusCode);
    }

    private static async Task<HttpResponseMessage> OpenAsync(HttpClient http, string tenant, string? authorization, long? lastEventId, CancellationToken cancellation)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri($"v1/tenants/{tenant}/events", UriKind.Relative));
        if (authorization is not null)
        {
            request.Headers.TryAddWithoutValidation("Authorization", authorization);
        }

        if (lastEventId is { } id)
        {
            request.Headers.Add("Last-Event-ID", $"{id}");
        }

        return await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellation);
    }

    private static async Task Deny(HttpClient http, string tenant, string bearer, string resource)
    {
        using var request = HttpCallers.Post("/access/v1/evaluation", $$$"""
            {"subject": {"type": "agent", "id": "{{{tenant}}}/bot"}, "action": {"name": "fileSystem:write"}, "resource": {"type": "file", "id": "{{{resource}}}"}}
            """, bearer);
        using var response = await http.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("\"decision\":false", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    /// <summary>The next security event of the stream (keep-alives skipped); the stream's timeout fails the test.</summary>
    private static async Task<(long Sequence, JsonElement Event)> NextEventAsync(IAsyncEnumerator<SseItem<string>> events)
    {
        while (await events.MoveNextAsync())
        {
            var item = events.Current;
            if (item.EventType == SseParser.EventTypeDefault && item.EventId is { } id)
            {
                using var document = JsonDocument.Parse(item.Data);
                return (long.Parse(id, System.Globalization.CultureInfo.InvariantCulture), document.RootElement.Clone());
            }

            Assert.Equal("keepalive", item.EventType);
        }

        throw new InvalidOperationException("the event stream ended");
    }

    private static async Task<(long Sequence, JsonElement Event)> NextDenialAsync(IAsyncEnumerator<SseItem<string>> events, string resource)
    {
        while (true)
        {
            var next = await NextEventAsync(events);
            if (next.Event.GetProperty("type").GetString() == SecurityEventTypes.CheckDenied && next.Event.TryGetProperty("resource", out var r) && r.GetString() == resource)
            {
                return next;
            }
        }
    }
}

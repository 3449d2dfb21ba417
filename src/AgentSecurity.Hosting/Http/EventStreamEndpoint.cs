using System.Globalization;
using AgentSecurity.Abstractions.Audit;
using AgentSecurity.Grains;
using AgentSecurity.Grants;
using AgentSecurity.Grants.Documents;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace AgentSecurity.Hosting.Http;

/// <summary>
/// <c>GET /v1/tenants/{tenant}/events</c>: a tenant's security events as server-sent events, through the cluster (no
/// storage keys). 401 without a valid bearer session; 403 without the <c>audit</c> right for the tenant (the trust
/// boundary decides the subscription, which carries the caller's session); 400 for a tenant id or <c>Last-Event-ID</c>
/// that is not one; 503 when the silo serves its most streams or cannot reach the log. <c>Last-Event-ID: N</c> resumes
/// after sequence N (from the log, up to <see cref="IAuditStreamGrain.MaxReplay"/> events); without it, only new events.
/// </summary>
internal static class EventStreamEndpoint
{
    public const string Path = "/v1/tenants/{tenant}/events";

    public static void Map(IEndpointRouteBuilder endpoints) => endpoints.MapGet(Path, StreamAsync);

    private static async Task<IResult> StreamAsync(
        string tenant,
        HttpContext http,
        [FromServices] HttpAuthentication authentication,
        [FromServices] IGrainFactory grains,
        [FromServices] EventStreamSlots slots,
        [FromServices] IOptions<HttpApiOptions> options,
        [FromServices] IHostApplicationLifetime lifetime,
        [FromServices] ILoggerFactory loggers,
        [FromKeyedServices(KernelClock.ServiceKey)] TimeProvider kernelTime)
    {
        if (!authentication.TryAuthenticate(http.Request, out var caller, out var refusal))
        {
            return refusal;
        }

        if (!Identifiers.IsTenantId(tenant))
        {
            return HttpErrors.BadRequest(new Failure(ReasonCodes.InvalidField, $"\"{tenant}\" is not a tenant id ({Identifiers.TenantIdRule})"));
        }

        if (!TryReadLastEventId(http.Request, out var after))
        {
            return HttpErrors.BadRequest(new Failure(ReasonCodes.InvalidField, "Last-Event-ID is the sequence of the last event received: an integer of at least 0"));
        }

        if (!slots.TryTake(caller.Principal, out var principalFull))
        {
            return principalFull
                ? HttpErrors.Unavailable($"{caller.Principal} holds {options.Value.MaxEventStreamsPerPrincipal} event streams on this silo already; close one first")
                : HttpErrors.Unavailable($"this silo serves {options.Value.MaxEventStreams} event streams already; try again or another silo");
        }

        // The session's own end, moved onto the process clock the stream waits on.
        var sessionLeft = SessionDocument.Parse(caller.Session).TryGetValue(out var session) ? session.ExpiresAt - kernelTime.GetUtcNow() : TimeSpan.Zero;
        var logger = loggers.CreateLogger<EventStream>();
        var stream = new EventStream(
            grains, tenant, grains.GetGrain<IAuditStreamGrain>(tenant), caller.Principal, () => CallerSession.Enter(caller), options.Value, TimeProvider.System,
            TimeProvider.System.GetUtcNow() + sessionLeft, () => slots.Release(caller.Principal), logger);
        http.Response.RegisterForDisposeAsync(stream);
        if (await stream.StartAsync(after) is { } refused)
        {
            return authentication.Refused(http.Request, refused);
        }

        var stopping = lifetime.ApplicationStopping.Register(() => stream.End(new EventStreamEnd(ReasonCodes.Unavailable, "the silo is stopping; reconnect with Last-Event-ID")));
        http.Response.RegisterForDispose(stopping);
        http.Response.Headers.CacheControl = "no-store";
        HttpLog.EventStreamStarted(logger, tenant, caller.Principal, after);
        return TypedResults.ServerSentEvents(stream.ReadAllAsync(CancellationToken.None));
    }

    /// <summary>-1 without the header (only new events), else the sequence it names.</summary>
    public static bool TryReadLastEventId(HttpRequest request, out long after)
    {
        after = -1;
        var values = request.Headers["Last-Event-ID"];
        return values.Count == 0
            || (values.Count == 1 && long.TryParse(values[0], NumberStyles.None, CultureInfo.InvariantCulture, out after));
    }
}

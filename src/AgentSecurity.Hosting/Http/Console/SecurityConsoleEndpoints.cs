using System.Net;
using AgentSecurity.Abstractions.Audit;
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

namespace AgentSecurity.Hosting.Http.Console;

/// <summary>
/// The security console at <c>/security</c>: a page (HTML, CSS and a script embedded in this assembly, no build step),
/// its overview (<c>/security/api/overview?tenant=a&amp;tenant=b</c>) and a tenant's live events as server-sent events
/// (<c>/security/api/tenants/{tenant}/events</c>, the event stream of <see cref="EventStreamEndpoint"/>). Everything
/// under <c>/security</c> is behind the <see cref="OperatorGuard"/>, as the Orleans dashboard is; its reads of the
/// grains are the operator's (<see cref="Grains.Boundary.OperatorReads"/>).
/// </summary>
internal static class SecurityConsoleEndpoints
{
    public const string Prefix = "/security";

    /// <summary>The principal the console's event streams are counted and logged under (a silo's own, not a session's).</summary>
    public const string Principal = "security-console";

    private static readonly (string Path, string Resource, string ContentType)[] Files =
    [
        (Prefix, "index.html", "text/html; charset=utf-8"), // routing matches /security/ too
        (Prefix + "/console.css", "console.css", "text/css; charset=utf-8"),
        (Prefix + "/console.js", "console.js", "text/javascript; charset=utf-8"),
    ];

    public static void Map(IEndpointRouteBuilder endpoints)
    {
        // Who may ask (straight from this machine and naming it, or with an operator's session) is the OperatorGuard's.
        var console = endpoints.MapGroup(Prefix);
        foreach (var (path, resource, contentType) in Files)
        {
            var content = ReadResource(resource);
            console.MapGet(path[Prefix.Length..], (HttpContext http) =>
            {
                Secure(http.Response);
                return Results.Bytes(content, contentType);
            });
        }

        console.MapGet("/api/overview", OverviewAsync);
        console.MapGet("/api/tenants/{tenant}/events", StreamAsync);
    }

    private static async Task<IResult> OverviewAsync(HttpContext http, [FromServices] ConsoleOverviewReader reader)
    {
        var tenants = http.Request.Query["tenant"].Where(t => !string.IsNullOrEmpty(t)).Select(t => t!).Distinct(StringComparer.Ordinal).ToList();
        if (tenants.Count > ConsoleOverviewReader.MaxTenants)
        {
            return HttpErrors.BadRequest(new Failure(ReasonCodes.InvalidField, $"at most {ConsoleOverviewReader.MaxTenants} tenants at once"));
        }

        if (tenants.FirstOrDefault(t => !Identifiers.IsTenantId(t)) is { } bad)
        {
            return HttpErrors.BadRequest(new Failure(ReasonCodes.InvalidField, $"\"{bad}\" is not a tenant id ({Identifiers.TenantIdRule})"));
        }

        Secure(http.Response);
        return Results.Json(await reader.ReadAsync(tenants), ConsoleJson.Default.ConsoleOverview);
    }

    private static async Task<IResult> StreamAsync(
        string tenant,
        HttpContext http,
        [FromServices] IGrainFactory grains,
        [FromServices] EventStreamSlots slots,
        [FromServices] IOptions<HttpApiOptions> options,
        [FromServices] IHostApplicationLifetime lifetime,
        [FromServices] ILoggerFactory loggers)
    {
        if (!Identifiers.IsTenantId(tenant))
        {
            return HttpErrors.BadRequest(new Failure(ReasonCodes.InvalidField, $"\"{tenant}\" is not a tenant id ({Identifiers.TenantIdRule})"));
        }

        if (!EventStreamEndpoint.TryReadLastEventId(http.Request, out var after))
        {
            return HttpErrors.BadRequest(new Failure(ReasonCodes.InvalidField, "Last-Event-ID is the sequence of the last event received: an integer of at least 0"));
        }

        if (!slots.TryTake(Principal, out _))
        {
            return HttpErrors.Unavailable($"this silo serves its most event streams (or {options.Value.MaxEventStreamsPerPrincipal} of the console) already; close one first");
        }

        // The operator guard admitted the request; the stream has no session to expire, and renews as the operator's reads.
        var logger = loggers.CreateLogger<EventStream>();
        var stream = new EventStream(
            grains, tenant, grains.GetGrain<IAuditStreamGrain>(tenant), Principal, Grains.Boundary.OperatorReads.Enter, options.Value,
            TimeProvider.System, DateTimeOffset.MaxValue, () => slots.Release(Principal), logger);
        http.Response.RegisterForDisposeAsync(stream);
        if (await stream.StartAsync(after) is { } refused)
        {
            return HttpErrors.Unavailable(refused.Message);
        }

        var stopping = lifetime.ApplicationStopping.Register(() => stream.End(new EventStreamEnd(ReasonCodes.Unavailable, "the silo is stopping; reconnect with Last-Event-ID")));
        http.Response.RegisterForDispose(stopping);
        http.Response.Headers.CacheControl = "no-store";
        HttpLog.EventStreamStarted(logger, tenant, Principal, after);
        return TypedResults.ServerSentEvents(stream.ReadAllAsync(CancellationToken.None));
    }

    /// <summary>The page's own files and nothing else: no inline script, no other origin, no framing.</summary>
    private static void Secure(HttpResponse response)
    {
        response.Headers.ContentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";
        response.Headers.XContentTypeOptions = "nosniff";
        response.Headers.CacheControl = "no-store";
        response.Headers["Referrer-Policy"] = "no-referrer";
    }

    private static byte[] ReadResource(string name)
    {
        using var stream = typeof(SecurityConsoleEndpoints).Assembly.GetManifestResourceStream("AgentSecurity.Console." + name)
            ?? throw new InvalidOperationException($"the security console's {name} is not embedded in the assembly");
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return copy.ToArray();
    }
}

using System.Net;
using AgentSecurity.Grains.Boundary;
using AgentSecurity.Grains.Telemetry;
using AgentSecurity.Grants;
using AgentSecurity.Grants.Access;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;

namespace AgentSecurity.Hosting.Http;

/// <summary>
/// The dashboard, the security console and the metrics belong to no tenant and show every tenant's grains. They are open only to a request that
/// comes straight from this machine: a silo on loopback (the default), a loopback peer, and no proxy header. Any other
/// request (the silo exposed with <see cref="SiloHostOptions.ListenOnAnyAddress"/>, a peer elsewhere, or a request a proxy,
/// tunnel or sidecar forwarded to loopback and said so) needs a bearer session of the operator, or of a principal with an
/// operator-signed access document for every tenant (<c>"*"</c>) that allows <c>audit</c> for every agent. The
/// configuration alone is not trusted: a proxy in front of a loopback silo would otherwise open the dashboard to its
/// clients. A request straight from this machine must also name this machine as its host (<c>localhost</c>,
/// <c>127.0.0.1</c>, <c>[::1]</c>) unless it brings a session: a page of another site whose name an attacker makes
/// resolve to 127.0.0.1 (DNS rebinding) could otherwise read the dashboard, its live log and the console from the
/// operator's own browser. <c>/healthz</c> and everything else are left to their own rules.
/// </summary>
internal sealed class OperatorGuard(RequestDelegate next, IOptions<SiloHostOptions> host, HttpAuthentication authentication, IBoundaryGate gate, AgentSecurityMetrics metrics)
{
    /// <summary>The path prefixes guarded, matched by segment and without regard to case, as routing matches them.</summary>
    public static readonly PathString[] Guarded = ["/dashboard", "/metrics", "/security"];

    public async Task InvokeAsync(HttpContext http)
    {
        if (!IsGuarded(http.Request.Path))
        {
            await next(http);
            return;
        }

        if (!host.Value.ListenOnAnyAddress && IsStraightFromThisMachine(http))
        {
            if (NamesThisMachine(http.Request.Host.Host))
            {
                await next(http);
                return;
            }

            if (!http.Request.Headers.ContainsKey("Authorization"))
            {
                var foreign = new Failure(ReasonCodes.Forbidden, "a request without a session is answered only when it names this machine as its host (localhost, 127.0.0.1, [::1])");
                metrics.RecordCallRefused(foreign.Code);
                await authentication.Refused(http.Request, foreign).ExecuteAsync(http);
                return;
            }
        }

        if (!authentication.TryAuthenticate(http.Request, out var caller, out var refusal))
        {
            await refusal.ExecuteAsync(http);
            return;
        }

        Failure? refused;
        try
        {
            refused = await gate.AuthorizeEveryTenantAsync(caller.Principal, AccessRights.Audit);
        }
#pragma warning disable CA1031 // Whatever failed, the request is refused: the guard never lets a request through on an error.
        catch (Exception)
#pragma warning restore CA1031
        {
            refused = new Failure(ReasonCodes.Unavailable, "who may see every tenant could not be read now; try again");
        }

        if (refused is not null)
        {
            metrics.RecordCallRefused(refused.Code);
            await authentication.Refused(http.Request, refused).ExecuteAsync(http);
            return;
        }

        await next(http);
    }

    /// <summary>Headers by which a proxy says it forwarded a request: a request that carries one came from elsewhere.</summary>
    private static readonly string[] ForwardingHeaders = ["Forwarded", "X-Forwarded-For", "X-Forwarded-Host", "X-Forwarded-Proto", "X-Real-IP"];

    /// <summary>A loopback peer (IPv4, IPv6, or IPv4 mapped into IPv6) and no forwarding header; an unknown peer is not.</summary>
    public static bool IsStraightFromThisMachine(HttpContext http)
    {
        var peer = http.Connection.RemoteIpAddress;
        if (peer is null)
        {
            return false;
        }

        if (peer.IsIPv4MappedToIPv6)
        {
            peer = peer.MapToIPv4();
        }

        return IPAddress.IsLoopback(peer) && !ForwardingHeaders.Any(http.Request.Headers.ContainsKey);
    }

    /// <summary>Whether a request's host names this machine: <c>localhost</c> or a loopback address, in any spelling.</summary>
    public static bool NamesThisMachine(string host) =>
        string.Equals(host, "localhost", StringComparison.OrdinalIgnoreCase)
        || (IPAddress.TryParse(host, out var address) && IPAddress.IsLoopback(address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address));

    public static bool IsGuarded(PathString path) => Guarded.Any(prefix => path.StartsWithSegments(prefix, StringComparison.OrdinalIgnoreCase));
}

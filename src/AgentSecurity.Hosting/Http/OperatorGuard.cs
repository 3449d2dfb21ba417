using AgentSecurity.Grains.Boundary;
using AgentSecurity.Grains.Telemetry;
using AgentSecurity.Grants;
using AgentSecurity.Grants.Access;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;

namespace AgentSecurity.Hosting.Http;

/// <summary>
/// The dashboard and the metrics belong to no tenant and show every tenant's grains: on loopback (the default) they are
/// open to whoever can reach the machine's loopback; exposed (<see cref="SiloHostOptions.ListenOnAnyAddress"/>), a request
/// needs a bearer session of the operator, or of a principal with an operator-signed access document for every tenant
/// (<c>"*"</c>) that allows <c>audit</c> for every agent. <c>/healthz</c> and everything else are left to their own rules.
/// </summary>
internal sealed class OperatorGuard(RequestDelegate next, IOptions<SiloHostOptions> host, HttpAuthentication authentication, IBoundaryGate gate, AgentSecurityMetrics metrics)
{
    /// <summary>The path prefixes guarded, matched by segment and without regard to case, as routing matches them.</summary>
    public static readonly PathString[] Guarded = ["/dashboard", "/metrics"];

    public async Task InvokeAsync(HttpContext http)
    {
        if (!host.Value.ListenOnAnyAddress || !IsGuarded(http.Request.Path))
        {
            await next(http);
            return;
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

    public static bool IsGuarded(PathString path) => Guarded.Any(prefix => path.StartsWithSegments(prefix, StringComparison.OrdinalIgnoreCase));
}

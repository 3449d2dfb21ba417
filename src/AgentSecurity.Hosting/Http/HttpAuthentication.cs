using System.Diagnostics.CodeAnalysis;
using AgentSecurity.Grains.Boundary;
using AgentSecurity.Grains.Telemetry;
using AgentSecurity.Grants;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Configuration;

namespace AgentSecurity.Hosting.Http;

/// <summary>
/// Authenticates HTTP requests by their bearer session with the silo's trust boundary (<see cref="IBoundaryGate"/>): one
/// signature verification per session and silo, then a cache lookup, shared with the grain call filter. A refusal is
/// counted with the boundary's refusals and logged, and answers 401.
/// </summary>
internal sealed class HttpAuthentication(IBoundaryGate gate, IOptions<ClusterOptions> cluster, AgentSecurityMetrics metrics, ILogger<HttpAuthentication> logger)
{
    /// <summary>The realm of the Bearer challenge: the audience a session must be signed for.</summary>
    public string Realm { get; } = cluster.Value.ServiceId;

    /// <summary>The caller, or the 401 to answer.</summary>
    public bool TryAuthenticate(HttpRequest request, [NotNullWhen(true)] out HttpCaller? caller, [NotNullWhen(false)] out IResult? refusal)
    {
        var read = BearerSession.Read(request);
        if (!read.TryGetValue(out var session, out var failure) || !gate.Authenticate(session).TryGetValue(out var principal, out failure))
        {
            metrics.RecordCallRefused(failure.Code);
            HttpLog.Unauthenticated(logger, request.Method, request.Path.Value ?? string.Empty, failure.Message);
            (caller, refusal) = (null, HttpErrors.Unauthenticated(Realm, failure, BearerSession.IsPresent(request)));
            return false;
        }

        (caller, refusal) = (new HttpCaller(principal, session), null);
        return true;
    }

    /// <summary>A refusal of the boundary (from the gate or a grain call) as its HTTP answer, counted and logged.</summary>
    public IResult Refused(HttpRequest request, Failure failure)
    {
        HttpLog.Refused(logger, request.Method, request.Path.Value ?? string.Empty, failure.Code, failure.Message);
        return HttpErrors.Refused(Realm, failure);
    }
}

using AgentSecurity.Grants;
using Microsoft.AspNetCore.Http;

namespace AgentSecurity.Hosting.Http;

/// <summary>
/// AuthZEN 1.0 §10.3: a request's <c>X-Request-ID</c> comes back, identical, on the response to it, whatever the response
/// (errors included). One value of at most <see cref="MaxLength"/> characters; anything else is 400 <c>invalid_request</c>.
/// </summary>
internal sealed class RequestIdFilter : IEndpointFilter
{
    public const string Header = "X-Request-ID";

    public const int MaxLength = 1024;

    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var http = context.HttpContext;
        var ids = http.Request.Headers[Header];
        if (ids.Count > 1 || (ids.Count == 1 && (string.IsNullOrEmpty(ids[0]) || ids[0]!.Length > MaxLength)))
        {
            return HttpErrors.BadRequest(new Failure(ReasonCodes.InvalidRequest, $"{Header} is one value of 1 to {MaxLength} characters"));
        }

        if (ids.Count == 1)
        {
            http.Response.Headers[Header] = ids[0];
        }

        return await next(context);
    }
}

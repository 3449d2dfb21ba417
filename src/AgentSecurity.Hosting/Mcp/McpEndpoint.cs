using AgentSecurity.Abstractions;
using AgentSecurity.Abstractions.Boundary;
using AgentSecurity.Grants;
using AgentSecurity.Grants.Documents;
using AgentSecurity.Hosting.Http;
using AgentSecurity.Mcp.Gateway;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace AgentSecurity.Hosting.Mcp;

/// <summary>
/// The silo's MCP endpoint: Streamable HTTP (stateless) on <c>/mcp/{tenant}/{agent}</c>, behind the caller's bearer
/// session. A request without a valid session is answered 401; one whose session lacks the agent's <c>execute</c> right
/// 403 (the admission is a grain call the trust boundary decides); one the agent's grain does not admit 403 with the
/// grain's reason code (<c>isolation_forbids</c>, <c>quarantined</c>, ...). Then the agent's gateway serves it, with
/// the caller's session on every grain call it makes (<c>tools/list</c> and <c>tools/call</c> need the <c>check</c>
/// right too: without it nothing is shown and every call is refused).
/// </summary>
public static class McpEndpoint
{
    /// <summary>The route of an agent's endpoint.</summary>
    public const string Route = "/mcp/{tenant}/{agent}";

    private const string GatewayItem = "agentsec.mcp.gateway";

    /// <summary>The endpoint's options (<c>AgentSecurity:Mcp</c>), its pool of agents' gateways and the SDK's HTTP transport.</summary>
    public static IServiceCollection AddAgentSecurityMcp(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<McpEndpointOptions>().Bind(configuration.GetSection(McpEndpointOptions.SectionName)).ValidateOnStart();
        services.AddSingleton<IValidateOptions<McpEndpointOptions>, McpEndpointOptionsValidator>();
        services.AddSingleton<McpAgentPool>();
        services.AddMcpServer()
            .WithHttpTransport(o =>
            {
                o.Stateless = true;
                o.ConfigureSessionOptions = (http, options, _) =>
                {
                    // Only a request the middleware admitted carries a gateway; anything else never reaches an upstream.
                    if (http.Items[GatewayItem] is not McpGateway gateway)
                    {
                        throw new InvalidOperationException("an MCP request reached the transport without the agent's admission");
                    }

                    gateway.ConfigureStateless(options);
                    return Task.CompletedTask;
                };
            });
        return services;
    }

    /// <summary>Maps <see cref="Route"/> behind the bearer session and the agent's admission, when servers are configured.</summary>
    public static WebApplication MapAgentSecurityMcp(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        if (app.Services.GetRequiredService<IOptions<McpEndpointOptions>>().Value.Servers.Count == 0)
        {
            return app;
        }

        app.UseWhen(http => http.Request.Path.StartsWithSegments("/mcp", StringComparison.Ordinal), branch => branch.Use(AdmitAsync));
        app.MapMcp(Route);
        return app;
    }

    private static async Task AdmitAsync(HttpContext http, RequestDelegate next)
    {
        var options = http.RequestServices.GetRequiredService<IOptions<McpEndpointOptions>>().Value;
        if (http.Request.ContentLength > options.MaxRequestBytes)
        {
            await HttpErrors.TooLarge($"an MCP request is at most {options.MaxRequestBytes} bytes").ExecuteAsync(http);
            return;
        }

        // A body sent without a length (chunked) is cut at the same bound while it is read.
        if (http.Features.Get<Microsoft.AspNetCore.Http.Features.IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } size)
        {
            size.MaxRequestBodySize = options.MaxRequestBytes;
        }

        var authentication = http.RequestServices.GetRequiredService<HttpAuthentication>();
        if (!authentication.TryAuthenticate(http.Request, out var caller, out var unauthenticated))
        {
            await unauthenticated.ExecuteAsync(http);
            return;
        }

        var segments = (http.Request.Path.Value ?? string.Empty).Split('/', StringSplitOptions.RemoveEmptyEntries);
        if (segments.Length != 3 || !Identifiers.IsTenantId(segments[1]) || !Identifiers.IsAgentId(segments[2]))
        {
            await HttpErrors.Refusal(StatusCodes.Status404NotFound, ReasonCodes.InvalidRequest, "the MCP endpoint of an agent is /mcp/{tenant}/{agent}").ExecuteAsync(http);
            return;
        }

        var (tenant, agent) = (segments[1], segments[2]);
        var pool = http.RequestServices.GetRequiredService<McpAgentPool>();
        var grain = http.RequestServices.GetRequiredService<IGrainFactory>().GetGrain<IAgentGrain>(AgentKey.Of(tenant, agent));
        using (CallerSession.Enter(caller))
        {
            McpGateway? gateway;
            try
            {
                (gateway, var error, var message) = await pool.EnterAsync(tenant, agent, grain);
                if (gateway is null)
                {
                    var status = error is ReasonCodes.Unavailable ? StatusCodes.Status503ServiceUnavailable : StatusCodes.Status403Forbidden;
                    await HttpErrors.Refusal(status, error!, message ?? error!).ExecuteAsync(http);
                    return;
                }
            }
            catch (CallRefusedException e)
            {
                await authentication.Refused(http.Request, new Failure(e.Code is { Length: > 0 } code ? code : ReasonCodes.Forbidden, e.Message)).ExecuteAsync(http);
                return;
            }
#pragma warning disable CA1031 // Fail closed: whatever failed before the gateway, the request is refused, never served.
            catch (Exception e)
#pragma warning restore CA1031
            {
                McpLog.EnterFailed(http.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(McpEndpoint).FullName!), e, AgentKey.Of(tenant, agent), e.Message);
                await HttpErrors.Unavailable("the agent could not be asked now; try again").ExecuteAsync(http);
                return;
            }

            http.Items[GatewayItem] = gateway;
            await next(http);
        }
    }
}

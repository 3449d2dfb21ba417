using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace AgentSecurity.Hosting.Http;

public static class HttpRegistration
{
    /// <summary>The services of the silo's HTTP API (<see cref="MapAgentSecurityHttp"/>), with its limits from <c>AgentSecurity:Http</c>.</summary>
    public static IServiceCollection AddAgentSecurityHttp(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<HttpApiOptions>().Bind(configuration.GetSection(HttpApiOptions.SectionName)).ValidateOnStart();
        services.AddSingleton<IValidateOptions<HttpApiOptions>, HttpApiOptionsValidator>();
        services.AddSingleton<HttpAuthentication>();
        services.AddSingleton<AgentChecks>();
        services.AddSingleton<EventStreamSlots>();
        services.AddSingleton<Console.ConsoleOverviewReader>();
        return services;
    }

    /// <summary>
    /// The silo's HTTP API: the AuthZEN 1.0 access evaluation endpoints and their metadata, tenants' event streams, the security
    /// console (<c>/security</c>), and the guard that puts the dashboard, the console and the metrics behind the operator when the silo listens beyond loopback. Every call
    /// it makes into the cluster carries its caller's session and passes the trust boundary like a .NET client's.
    /// </summary>
    public static WebApplication MapAgentSecurityHttp(this WebApplication app)
    {
        app.UseMiddleware<OperatorGuard>();
        AuthZenEndpoints.Map(app);
        EventStreamEndpoint.Map(app);
        Console.SecurityConsoleEndpoints.Map(app);
        return app;
    }
}

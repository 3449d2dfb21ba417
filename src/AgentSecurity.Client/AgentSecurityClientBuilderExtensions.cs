using System.Net;
using AgentSecurity.Client.Sessions;
using AgentSecurity.Grants.Crypto;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Orleans.Configuration;

namespace AgentSecurity.Client;

public static class AgentSecurityClientBuilderExtensions
{
    /// <summary>The default gateway of a local silo (<c>./run.sh</c>).</summary>
    public const string DefaultGateway = "127.0.0.1:30000";

    /// <summary>
    /// Connects to the given gateways (<c>host:port</c>, comma-separated) of the cluster <paramref name="clusterId"/>,
    /// and registers <see cref="AgentSecurityClient"/>.
    /// </summary>
    public static IClientBuilder UseAgentSecurity(this IClientBuilder client, string gateways = DefaultGateway,
        string clusterId = "agentsec-dev", string serviceId = "agentsec")
    {
        client.UseStaticClustering(ParseGateways(gateways).ToArray());
        client.Configure<ClusterOptions>(o =>
        {
            o.ClusterId = clusterId;
            o.ServiceId = serviceId;
        });
        client.Services.AddSingleton<AgentSecurityClient>();
        return client;
    }

    /// <summary>
    /// Calls as the principal of <paramref name="key"/>: every call carries a session it signs (for the cluster's service
    /// id, renewed before it expires). Without a session the cluster refuses every call (<c>unauthenticated</c>).
    /// </summary>
    public static IClientBuilder UseAgentSecuritySession(this IClientBuilder client, SigningKey key, TimeSpan? lifetime = null, TimeProvider? time = null)
    {
        client.Services.AddSingleton(services => new ClientSession(key, services.GetRequiredService<IOptions<ClusterOptions>>().Value.ServiceId, lifetime, time));
        client.AddOutgoingGrainCallFilter<SessionCallFilter>();
        return client;
    }

    public static IEnumerable<IPEndPoint> ParseGateways(string gateways)
    {
        foreach (var entry in gateways.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            yield return IPEndPoint.TryParse(entry, out var endpoint) && endpoint.Port != 0
                ? endpoint
                : throw new FormatException($"\"{entry}\" is not a gateway address host:port (an IP address and a port)");
        }
    }
}

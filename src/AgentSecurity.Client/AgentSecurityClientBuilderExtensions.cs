using System.Net;
using AgentSecurity.Abstractions.Audit;
using Azure.Storage.Queues;
using Microsoft.Extensions.DependencyInjection;
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
    /// Lets this client subscribe to tenants' security-event streams (Azure Queue streams on the cluster's storage)
    /// with <see cref="AgentSecurityClient.SubscribeAsync"/>.
    /// </summary>
    public static IClientBuilder UseAgentSecurityAuditStream(this IClientBuilder client, string storageConnectionString)
    {
        client.AddAzureQueueStreams(AuditStreams.ProviderName, stream =>
            stream.ConfigureAzureQueue(o => o.Configure(q => q.QueueServiceClient = new QueueServiceClient(storageConnectionString))));
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

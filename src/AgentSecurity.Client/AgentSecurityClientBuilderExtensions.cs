using System.Net;
using AgentSecurity.Client.Gateways;
using AgentSecurity.Client.Sessions;
using AgentSecurity.Grants.Crypto;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Configuration;
using Orleans.Messaging;

namespace AgentSecurity.Client;

public static class AgentSecurityClientBuilderExtensions
{
    /// <summary>The default gateway of a local silo (<c>./run.sh</c>).</summary>
    public const string DefaultGateway = "127.0.0.1:30000";

    /// <summary>
    /// Connects to the given gateways (<c>host:port</c>, comma-separated; the host an IP address or a DNS name, IPv6 in
    /// brackets) of the cluster <paramref name="clusterId"/>, and registers <see cref="AgentSecurityClient"/>.
    /// </summary>
    /// <exception cref="FormatException">A gateway entry is not <c>host:port</c>: it names the entry.</exception>
    public static IClientBuilder UseAgentSecurity(this IClientBuilder client, string gateways = DefaultGateway,
        string clusterId = "agentsec-dev", string serviceId = "agentsec") =>
        client.UseAgentSecurity(o =>
        {
            o.Gateways = gateways;
            o.ClusterId = clusterId;
            o.ServiceId = serviceId;
        });

    /// <summary>
    /// Connects to the cluster as <paramref name="configure"/> says: through the gateways it names, or those the silos'
    /// membership table lists (<see cref="AgentSecurityClientOptions.AzureTable"/>); and registers
    /// <see cref="AgentSecurityClient"/>. The options are read now: a mistake in them throws here.
    /// </summary>
    /// <exception cref="FormatException">A gateway entry is not <c>host:port</c>: it names the entry.</exception>
    /// <exception cref="ArgumentException">Both gateways and a membership table, or an empty cluster or service id.</exception>
    public static IClientBuilder UseAgentSecurity(this IClientBuilder client, Action<AgentSecurityClientOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(configure);
        var options = new AgentSecurityClientOptions();
        configure(options);
        var gateways = options.Validate();
        if (options.AzureTable is { } table)
        {
            client.UseAzureStorageClustering(o =>
            {
                o.TableServiceClient = table.Tables;
                o.TableName = table.TableName;
            });
        }
        else
        {
            // Our own list in place of static clustering: the same gateway URIs, but names resolved at every refresh.
            client.Services.AddSingleton<IGatewayListProvider>(services => new DnsGatewayListProvider(
                gateways!,
                services.GetRequiredService<IOptions<GatewayOptions>>().Value.GatewayListRefreshPeriod,
                DnsGatewayListProvider.SystemResolver,
                services.GetRequiredService<TimeProvider>(),
                services.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(DnsGatewayListProvider).FullName!)));
        }

        client.UseOneGatewayAtATime();
        client.Configure<ClusterOptions>(o =>
        {
            o.ClusterId = options.ClusterId;
            o.ServiceId = options.ServiceId;
        });
        client.Services.AddSingleton<AgentSecurityClient>();
        return client;
    }

    /// <summary>
    /// Gives Orleans the gateway list already registered one gateway at a time (<see cref="OneGatewayListProvider"/>):
    /// the cluster takes a client's answers (its observers') only on the connection that brought the request, and an
    /// Orleans client of several gateways sends some by another. <see cref="UseAgentSecurity(IClientBuilder, Action{AgentSecurityClientOptions})"/>
    /// calls it; a client that configures clustering its own way calls it after.
    /// </summary>
    /// <exception cref="InvalidOperationException">No gateway list is registered yet.</exception>
    public static IClientBuilder UseOneGatewayAtATime(this IClientBuilder client)
    {
        ArgumentNullException.ThrowIfNull(client);
        var services = client.Services;
        var listed = services.LastOrDefault(d => d.ServiceType == typeof(IGatewayListProvider) && !d.IsKeyedService)
            ?? throw new InvalidOperationException("no gateway list is registered: configure clustering first");
        services.Remove(listed);
        services.AddSingleton(provider => new OneGatewayListProvider(
            (IGatewayListProvider)(listed.ImplementationInstance
                ?? listed.ImplementationFactory?.Invoke(provider)
                ?? ActivatorUtilities.CreateInstance(provider, listed.ImplementationType!)),
            provider.GetRequiredService<TimeProvider>()));
        services.AddSingleton<IGatewayListProvider>(provider => provider.GetRequiredService<OneGatewayListProvider>());
        services.AddSingleton<IClusterConnectionStatusObserver>(provider => provider.GetRequiredService<OneGatewayListProvider>());
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

    /// <summary>The gateways as IP endpoints, for a caller that connects to them itself; DNS names are refused here.</summary>
    /// <exception cref="FormatException">An entry is not <c>host:port</c>, or names its host by DNS name (resolve those with <see cref="GatewayAddress.ParseList"/> and DNS).</exception>
    public static IEnumerable<IPEndPoint> ParseGateways(string gateways)
    {
        foreach (var gateway in GatewayAddress.ParseList(gateways))
        {
            yield return gateway.Address is { } address
                ? new IPEndPoint(address, gateway.Port)
                : throw new FormatException($"\"{gateway}\" names its host by DNS name: only an IP address and a port are read here (GatewayAddress.ParseList reads names)");
        }
    }
}

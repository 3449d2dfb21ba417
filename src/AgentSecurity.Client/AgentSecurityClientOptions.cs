using AgentSecurity.Client.Gateways;

namespace AgentSecurity.Client;

/// <summary>
/// How the client finds the cluster: the cluster's ids, and either gateway addresses (<see cref="Gateways"/>) or the
/// silos' membership table (<see cref="AzureTable"/>). Read once, when <c>UseAgentSecurity</c> is called: a mistake
/// fails there, not at the first call.
/// </summary>
public sealed class AgentSecurityClientOptions
{
    /// <summary>
    /// Comma-separated <c>host:port</c> entries, the host an IP address or a DNS name (resolved at every refresh of the
    /// gateway list, so a changing answer is followed); IPv6 in brackets. Null, without <see cref="AzureTable"/>:
    /// <see cref="AgentSecurityClientBuilderExtensions.DefaultGateway"/>.
    /// </summary>
    public string? Gateways { get; set; }

    /// <summary>Discovers the gateways from the membership table of silos on Azure Table clustering, instead of <see cref="Gateways"/>.</summary>
    public AzureTableGatewayDiscovery? AzureTable { get; set; }

    public string ClusterId { get; set; } = "agentsec-dev";

    public string ServiceId { get; set; } = "agentsec";

    /// <summary>The configured gateways, parsed; null when they are discovered from the membership table.</summary>
    /// <exception cref="ArgumentException">Both or an empty id.</exception>
    /// <exception cref="FormatException">A gateway entry is not <c>host:port</c>.</exception>
    internal IReadOnlyList<GatewayAddress>? Validate()
    {
        if (string.IsNullOrWhiteSpace(ClusterId))
        {
            throw new ArgumentException("the client needs the cluster id of the silos (ClusterId)", nameof(ClusterId));
        }

        if (string.IsNullOrWhiteSpace(ServiceId))
        {
            throw new ArgumentException("the client needs the service id of the silos (ServiceId)", nameof(ServiceId));
        }

        if (AzureTable is not null)
        {
            return Gateways is null
                ? null
                : throw new ArgumentException("choose one way to find the gateways: Gateways or AzureTable, not both", nameof(Gateways));
        }

        return GatewayAddress.ParseList(Gateways ?? AgentSecurityClientBuilderExtensions.DefaultGateway);
    }
}

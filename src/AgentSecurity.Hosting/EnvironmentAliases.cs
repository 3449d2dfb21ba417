namespace AgentSecurity.Hosting;

/// <summary>
/// The environment variables the README documents, mapped onto configuration keys, so scripts can say
/// <c>AGENTSEC_GATEWAY_PORT=30001</c> instead of <c>Silo__GatewayPort=30001</c>.
/// </summary>
public static class EnvironmentAliases
{
    public static readonly IReadOnlyDictionary<string, string> Map = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["AGENTSEC_CLUSTER_ID"] = "Silo:ClusterId",
        ["AGENTSEC_SERVICE_ID"] = "Silo:ServiceId",
        ["AGENTSEC_SILO_PORT"] = "Silo:SiloPort",
        ["AGENTSEC_GATEWAY_PORT"] = "Silo:GatewayPort",
        ["AGENTSEC_HTTP_PORT"] = "Silo:HttpPort",
        ["AGENTSEC_STORAGE"] = "Silo:Storage",
        ["AGENTSEC_ADVERTISED_HOST"] = "Silo:AdvertisedHost",
        ["AGENTSEC_LISTEN_ANY"] = "Silo:ListenOnAnyAddress",
        ["AGENTSEC_KUBERNETES_HOSTING"] = "Silo:KubernetesHosting",
        ["AGENTSEC_TLS_CERT"] = "Silo:Tls:CertificateFile",
        ["AGENTSEC_TLS_KEY"] = "Silo:Tls:KeyFile",
        ["AGENTSEC_TLS_CA"] = "Silo:Tls:CaFile",
        ["AGENTSEC_TLS_PASSWORD"] = "Silo:Tls:Password",
        ["AGENTSEC_OPERATOR_DID"] = "AgentSecurity:OperatorDid",
        ["AGENTSEC_CLOCK_SKEW"] = "AgentSecurity:ClockSkew",
        ["AGENTSEC_AUDIT_KEY"] = "AgentSecurity:Audit:KeyFile",
    };

    /// <summary>The configuration entries for the aliases that are set in this process's environment.</summary>
    public static IEnumerable<KeyValuePair<string, string?>> FromEnvironment() =>
        Map.Select(p => (p.Value, Value: Environment.GetEnvironmentVariable(p.Key)))
            .Where(p => !string.IsNullOrEmpty(p.Value))
            .Select(p => new KeyValuePair<string, string?>(p.Item1, p.Value));
}

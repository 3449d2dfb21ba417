using Microsoft.Extensions.Logging;

namespace AgentSecurity.Client.Gateways;

/// <summary>What the client logs about its gateways: event ids 9001 to 9099.</summary>
internal static partial class GatewayLog
{
    [LoggerMessage(EventId = 9001, Level = LogLevel.Information, Message = "Gateway {Gateway} resolves to {Addresses}")]
    public static partial void Resolved(ILogger logger, GatewayAddress gateway, IEnumerable<System.Net.IPEndPoint> addresses);

    [LoggerMessage(EventId = 9002, Level = LogLevel.Warning, Message = "Gateway {Gateway} did not resolve ({Problem}); it is left out of the gateway list until it does")]
    public static partial void Unresolved(ILogger logger, GatewayAddress gateway, string problem);

    [LoggerMessage(EventId = 9003, Level = LogLevel.Warning, Message = "Gateway {Gateway} did not resolve ({Problem}); its last addresses {Addresses} stay in the gateway list")]
    public static partial void KeptLastAddresses(ILogger logger, GatewayAddress gateway, string problem, IEnumerable<System.Net.IPEndPoint> addresses);
}

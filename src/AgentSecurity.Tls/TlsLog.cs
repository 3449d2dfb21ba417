using Microsoft.Extensions.Logging;

namespace AgentSecurity.Tls;

/// <summary>The cluster TLS's log messages, with fixed event ids (8001–8099).</summary>
internal static partial class TlsLog
{
    [LoggerMessage(EventId = 8001, Level = LogLevel.Warning, Message = "Refused a TLS connection whose peer should be a {Role}: {Problem}")]
    public static partial void RefusedPeer(ILogger logger, PeerRole role, string problem);
}

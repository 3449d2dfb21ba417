using Microsoft.Extensions.Logging;

namespace AgentSecurity.Hosting;

/// <summary>The silo host's log messages, with fixed event ids.</summary>
internal static partial class HostingLog
{
    [LoggerMessage(EventId = 5001, Level = LogLevel.Warning, Message = "The audit key is ephemeral (no AGENTSEC_AUDIT_KEY / AgentSecurity:Audit:KeyFile); checkpoints signed by {Did} verify only while this silo runs")]
    public static partial void EphemeralAuditKey(ILogger logger, string did);
}

using Microsoft.Extensions.Logging;

namespace AgentSecurity.Hosting;

/// <summary>The silo's TLS log messages, in the TLS range of event ids (8001–8099).</summary>
internal static partial class HostingTlsLog
{
    [LoggerMessage(EventId = 8002, Level = LogLevel.Information, Message = "Silo-to-silo and gateway connections are mutual TLS 1.3: certificate {Subject} ({Thumbprint}), valid until {NotAfter:u}; trusted CA: {Authorities}")]
    public static partial void SiloTls(ILogger logger, string subject, string thumbprint, DateTime notAfter, string authorities);
}

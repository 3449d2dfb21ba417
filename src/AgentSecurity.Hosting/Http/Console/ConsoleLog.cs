using Microsoft.Extensions.Logging;

namespace AgentSecurity.Hosting.Http.Console;

internal static partial class ConsoleLog
{
    [LoggerMessage(EventId = 5150, Level = LogLevel.Warning, Message = "The security console could not read tenant {Tenant}; it shows the tenant as unavailable")]
    public static partial void TenantUnreadable(ILogger logger, Exception exception, string tenant);

    [LoggerMessage(EventId = 5151, Level = LogLevel.Warning, Message = "The security console skipped record {Sequence} of tenant {Tenant}'s log: it is not a security event")]
    public static partial void RecordUnreadable(ILogger logger, string tenant, long sequence);
}

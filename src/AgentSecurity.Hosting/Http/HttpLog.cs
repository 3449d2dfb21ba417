using Microsoft.Extensions.Logging;

namespace AgentSecurity.Hosting.Http;

/// <summary>The silo's HTTP API's log messages, with fixed event ids (51xx).</summary>
internal static partial class HttpLog
{
    [LoggerMessage(EventId = 5101, Level = LogLevel.Information, Message = "HTTP {Method} {Path} refused as unauthenticated: {Problem}")]
    public static partial void Unauthenticated(ILogger logger, string method, string path, string problem);

    [LoggerMessage(EventId = 5102, Level = LogLevel.Information, Message = "HTTP {Method} {Path} refused ({Code}): {Problem}")]
    public static partial void Refused(ILogger logger, string method, string path, string code, string problem);

    [LoggerMessage(EventId = 5103, Level = LogLevel.Warning, Message = "A check for {Tenant}/{Agent} asked over HTTP could not be made; it was denied with unavailable")]
    public static partial void CheckFailed(ILogger logger, Exception exception, string tenant, string agent);

    [LoggerMessage(EventId = 5104, Level = LogLevel.Information, Message = "Event stream of tenant {Tenant} started for {Principal} after sequence {After}")]
    public static partial void EventStreamStarted(ILogger logger, string tenant, string principal, long after);

    [LoggerMessage(EventId = 5105, Level = LogLevel.Information, Message = "Event stream of tenant {Tenant} for {Principal} ended ({Code}): {Reason}")]
    public static partial void EventStreamEnded(ILogger logger, string tenant, string principal, string code, string reason);

    [LoggerMessage(EventId = 5106, Level = LogLevel.Warning, Message = "The event stream of tenant {Tenant} could not reach the tenant's log; it catches up at its next renewal")]
    public static partial void EventStreamFailed(ILogger logger, Exception exception, string tenant);
}

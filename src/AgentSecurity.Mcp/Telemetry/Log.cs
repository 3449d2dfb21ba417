using Microsoft.Extensions.Logging;

namespace AgentSecurity.Mcp.Telemetry;

/// <summary>The gateway's log messages; event ids 10001–10099 belong to this package.</summary>
internal static partial class Log
{
    [LoggerMessage(EventId = 10001, Level = LogLevel.Information, Message = "Upstream {Upstream} started (pid {ProcessId}, {Server} {Version}, {ToolCount} tools)")]
    public static partial void UpstreamStarted(ILogger logger, string upstream, int? processId, string server, string version, int toolCount);

    [LoggerMessage(EventId = 10002, Level = LogLevel.Warning, Message = "Upstream {Upstream} is unavailable: {Problem} (next start attempt in {RetryIn})")]
    public static partial void UpstreamUnavailable(ILogger logger, string upstream, string problem, TimeSpan retryIn);

    [LoggerMessage(EventId = 10003, Level = LogLevel.Warning, Message = "Upstream {Upstream} lists a tool named \"{Tool}\", which no grant can name: hidden")]
    public static partial void ToolNameHidden(ILogger logger, string upstream, string tool);

    [LoggerMessage(EventId = 10004, Level = LogLevel.Warning, Message = "Upstream {Upstream} lists a definition of {Tool} the gateway cannot read: hidden ({Problem})")]
    public static partial void ToolDefinitionHidden(ILogger logger, string upstream, string tool, string problem);

    [LoggerMessage(EventId = 10005, Level = LogLevel.Warning, Message = "The definition of {Tool} changed while the gateway served it ({Before} -> {After}): refused from now on")]
    public static partial void ToolChanged(ILogger logger, string tool, string before, string after);

    [LoggerMessage(EventId = 10006, Level = LogLevel.Information, Message = "tools/call {Tool} refused: {Reason}: {Detail}")]
    public static partial void CallRefused(ILogger logger, string tool, string reason, string detail);

    [LoggerMessage(EventId = 10007, Level = LogLevel.Error, Message = "The agent's grain could not answer ({Operation}) for {Agent}: failing closed")]
    public static partial void GateFailed(ILogger logger, string agent, string operation, Exception exception);

    [LoggerMessage(EventId = 10008, Level = LogLevel.Debug, Message = "Upstream {Upstream} stderr: {Line}")]
    public static partial void UpstreamStandardError(ILogger logger, string upstream, string line);

    [LoggerMessage(EventId = 10009, Level = LogLevel.Warning, Message = "Upstream {Upstream} tool list could not be refreshed: {Problem}")]
    public static partial void RelistFailed(ILogger logger, string upstream, string problem);

    [LoggerMessage(EventId = 10010, Level = LogLevel.Debug, Message = "Could not tell the client that the tool list changed: {Problem}")]
    public static partial void NotifyFailed(ILogger logger, string problem);

    [LoggerMessage(EventId = 10011, Level = LogLevel.Warning, Message = "Upstream {Upstream} lists more than {Max} tools: the rest are hidden")]
    public static partial void TooManyTools(ILogger logger, string upstream, int max);

    [LoggerMessage(EventId = 10012, Level = LogLevel.Information, Message = "tools/call {Tool}: {Withheld} entries below folders the agent may not read were withheld from its answer")]
    public static partial void ListingNarrowed(ILogger logger, string tool, int withheld);
}

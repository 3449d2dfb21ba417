using Microsoft.Extensions.Logging;

namespace AgentSecurity.Hosting.Mcp;

internal static partial class McpLog
{
    [LoggerMessage(EventId = 4001, Level = LogLevel.Information, Message = "MCP gateway of {Agent} started under grant {GrantId} (workspace {Access})")]
    public static partial void AgentStarted(ILogger logger, string agent, string grantId, string access);

    [LoggerMessage(EventId = 4002, Level = LogLevel.Information, Message = "MCP gateway of {Agent} stopped: {Reason}")]
    public static partial void AgentStopped(ILogger logger, string agent, string reason);

    [LoggerMessage(EventId = 4003, Level = LogLevel.Warning, Message = "MCP kill switch of {Agent} pulled: a tool call was refused {Reason}")]
    public static partial void KillSwitch(ILogger logger, string agent, string reason);

    [LoggerMessage(EventId = 4004, Level = LogLevel.Warning, Message = "MCP gateway of {Agent} did not stop cleanly")]
    public static partial void StopFailed(ILogger logger, Exception exception, string agent);

    [LoggerMessage(EventId = 4005, Level = LogLevel.Warning, Message = "MCP request for {Agent} failed before the gateway: {Message}")]
    public static partial void EnterFailed(ILogger logger, Exception exception, string agent, string message);
}

using Microsoft.Extensions.Logging;

namespace AgentSecurity.AI.Telemetry;

/// <summary>The guard's log events: 12001–12099 (12001–12007 used).</summary>
internal static partial class Log
{
    [LoggerMessage(EventId = 12001, Level = LogLevel.Warning, Message = "The grain of agent {Agent} could not answer {Operation}; refused (fail closed)")]
    public static partial void GrainFailed(ILogger logger, string agent, string operation, Exception exception);

    [LoggerMessage(EventId = 12002, Level = LogLevel.Information, Message = "Agent {Agent}: call of {Tool} refused ({Reason})")]
    public static partial void ToolRefused(ILogger logger, string agent, string tool, string reason);

    [LoggerMessage(EventId = 12003, Level = LogLevel.Information, Message = "Agent {Agent}: model call refused ({Reason})")]
    public static partial void ModelRefused(ILogger logger, string agent, string reason);

    [LoggerMessage(EventId = 12004, Level = LogLevel.Warning, Message = "Agent {Agent}: the usage of a model call was charged with {Reason}: {Message}")]
    public static partial void UsageNotCharged(ILogger logger, string agent, string reason, string message);

    [LoggerMessage(EventId = 12005, Level = LogLevel.Information, Message = "Agent {Agent}: tool {Tool} is not a function and cannot be checked per call; not offered")]
    public static partial void ToolNotAFunction(ILogger logger, string agent, string tool);

    [LoggerMessage(EventId = 12007, Level = LogLevel.Warning, Message = "Agent {Agent}: a call of model {Model} reported no usable token count; charged as unreported")]
    public static partial void UsageUnreported(ILogger logger, string agent, string model);

    [LoggerMessage(EventId = 12006, Level = LogLevel.Information, Message = "Agent {Agent}: run refused ({Reason})")]
    public static partial void RunRefused(ILogger logger, string agent, string reason);
}

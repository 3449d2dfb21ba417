using Microsoft.Extensions.Logging;

namespace AgentSecurity.Cli;

/// <summary>
/// Log lines on standard error, for commands whose standard output is a protocol (<c>mcp serve</c> speaks JSON-RPC on
/// it): one line per message, <c>AGENTSEC_LOG_LEVEL</c> (default Information for AgentSecurity, Warning for the rest).
/// </summary>
internal sealed class StandardErrorLogger(string category, LogLevel minimum) : ILogger
{
    public static ILoggerFactory CreateFactory(LogLevel agentSecurityMinimum = LogLevel.Information)
    {
        var configured = Environment.GetEnvironmentVariable("AGENTSEC_LOG_LEVEL") is { Length: > 0 } text && Enum.TryParse<LogLevel>(text, ignoreCase: true, out var level)
            ? level
            : (LogLevel?)null;
        return LoggerFactory.Create(builder => builder.SetMinimumLevel(LogLevel.Trace).AddProvider(new Provider(configured, agentSecurityMinimum)));
    }

    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => logLevel >= minimum && logLevel != LogLevel.None;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        if (!IsEnabled(logLevel))
        {
            return;
        }

        var line = $"[{logLevel}] {category}: {formatter(state, exception)}" + (exception is null ? string.Empty : $" ({exception.GetType().Name}: {exception.Message})");
        Console.Error.WriteLine(line.ReplaceLineEndings(" "));
    }

    private sealed class Provider(LogLevel? configured, LogLevel agentSecurityMinimum) : ILoggerProvider
    {
        public ILogger CreateLogger(string categoryName) =>
            new StandardErrorLogger(categoryName, configured ?? (categoryName.StartsWith("AgentSecurity", StringComparison.Ordinal) ? agentSecurityMinimum : LogLevel.Warning));

        public void Dispose()
        {
        }
    }
}

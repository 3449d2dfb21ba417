using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace AgentSecurity.Integration.Tests.Infrastructure;

/// <summary>Keeps what an in-process client or silo logs, for tests that must tell why it got no answer or wait for a line.</summary>
internal sealed class RecordingLoggerProvider : ILoggerProvider
{
    private readonly ConcurrentQueue<(string Category, LogLevel Level, string Message)> _entries = new();
    private readonly List<(Func<string, bool> Matches, TaskCompletionSource Seen)> _awaited = [];

    public IReadOnlyCollection<(string Category, LogLevel Level, string Message)> Entries => _entries;

    public ILogger CreateLogger(string categoryName) => new Recorder(categoryName, this);

    /// <summary>Completes once a message that <paramref name="matches"/> is logged (or was already).</summary>
    public Task WaitForAsync(Func<string, bool> matches, TimeSpan timeout)
    {
        var seen = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_awaited)
        {
            if (_entries.Any(e => matches(e.Message)))
            {
                return Task.CompletedTask;
            }

            _awaited.Add((matches, seen));
        }

        return seen.Task.WaitAsync(timeout);
    }

    private void Add(string category, LogLevel level, string message)
    {
        lock (_awaited)
        {
            _entries.Enqueue((category, level, message));
            foreach (var waiter in _awaited.Where(w => w.Matches(message)).ToList())
            {
                _awaited.Remove(waiter);
                waiter.Seen.TrySetResult();
            }
        }
    }

    public void Dispose()
    {
    }

    private sealed class Recorder(string category, RecordingLoggerProvider provider) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Information;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (IsEnabled(logLevel))
            {
                provider.Add(category, logLevel, formatter(state, exception));
            }
        }
    }
}

using System.Collections.Concurrent;
using System.Net;
using AgentSecurity.Testing;
using Google.Protobuf;

namespace AgentSecurity.Integration.Tests.Infrastructure;

/// <summary>
/// A local OTLP/HTTP receiver (protobuf, as the silo's exporter sends with <c>OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf</c>):
/// it listens on a free loopback port, answers every export with 200, and decodes the spans, metric names and log
/// records that arrive, with the resource each came from. What a collector would see, not a mock exporter.
/// </summary>
internal sealed class OtlpReceiver : IAsyncDisposable
{
    private readonly HttpListener _listener = new();
    private readonly Task _serving;
    private readonly object _gate = new();
    private TaskCompletionSource _arrived = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public OtlpReceiver()
    {
        Port = FreePorts.Next();
        _listener.Prefixes.Add($"http://127.0.0.1:{Port}/");
        _listener.Start();
        _serving = ServeAsync();
    }

    public int Port { get; }

    /// <summary>The base endpoint, as <c>OTEL_EXPORTER_OTLP_ENDPOINT</c>: the exporter appends <c>/v1/traces</c> and the others.</summary>
    public string Endpoint => $"http://127.0.0.1:{Port}";

    public ConcurrentQueue<OtlpSpan> Spans { get; } = new();

    /// <summary>Metric names received, each with its resource's attributes.</summary>
    public ConcurrentQueue<(string Name, IReadOnlyDictionary<string, object> Resource)> Metrics { get; } = new();

    /// <summary>Log records received (their body when it is text), each with its resource's attributes.</summary>
    public ConcurrentQueue<(string Body, IReadOnlyDictionary<string, object> Resource)> Logs { get; } = new();

    /// <summary>Completes when <paramref name="found"/> returns something for what has arrived, re-evaluated on each export.</summary>
    public async Task<T> WaitForAsync<T>(Func<T?> found, TimeSpan timeout, string what)
        where T : class
    {
        using var deadline = new CancellationTokenSource(timeout);
        while (true)
        {
            Task next;
            lock (_gate)
            {
                next = _arrived.Task;
            }

            if (found() is { } result)
            {
                return result;
            }

            try
            {
                await next.WaitAsync(deadline.Token);
            }
            catch (OperationCanceledException)
            {
                throw new TimeoutException($"the receiver did not get {what} within {timeout.TotalSeconds:0} s: {Spans.Count} spans ({string.Join(", ", Spans.Select(s => s.Name).Distinct())}), {Metrics.Count} metrics, {Logs.Count} log records");
            }
        }
    }

    private async Task ServeAsync()
    {
        while (_listener.IsListening)
        {
            HttpListenerContext context;
            try
            {
                context = await _listener.GetContextAsync();
            }
            catch (Exception e) when (e is HttpListenerException or ObjectDisposedException)
            {
                return;
            }

            using var body = new MemoryStream();
            await context.Request.InputStream.CopyToAsync(body);
            var message = ByteString.CopyFrom(body.ToArray());
            switch (context.Request.Url?.AbsolutePath)
            {
                case "/v1/traces":
                    ReadTraces(message);
                    break;
                case "/v1/metrics":
                    ReadMetrics(message);
                    break;
                case "/v1/logs":
                    ReadLogs(message);
                    break;
            }

            // An empty Export*ServiceResponse: everything accepted.
            context.Response.StatusCode = 200;
            context.Response.ContentType = "application/x-protobuf";
            context.Response.Close();
            lock (_gate)
            {
                var arrived = _arrived;
                _arrived = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                arrived.SetResult();
            }
        }
    }

    // ExportTraceServiceRequest: 1 ResourceSpans { 1 Resource, 2 ScopeSpans { 2 Span } };
    // Span: 1 trace_id, 2 span_id, 4 parent_span_id, 5 name, 9 attributes.
    private void ReadTraces(ByteString message)
    {
        foreach (var resourceSpans in new ProtoFields(message).Messages(1))
        {
            var resource = Attributes(resourceSpans.Message(1), 1);
            foreach (var span in resourceSpans.Messages(2).SelectMany(scope => scope.Messages(2)))
            {
                Spans.Enqueue(new OtlpSpan(
                    Convert.ToHexStringLower(span.Bytes(1).Span),
                    Convert.ToHexStringLower(span.Bytes(2).Span),
                    Convert.ToHexStringLower(span.Bytes(4).Span),
                    span.Text(5),
                    Attributes(span, 9),
                    resource));
            }
        }
    }

    // ExportMetricsServiceRequest: 1 ResourceMetrics { 1 Resource, 2 ScopeMetrics { 2 Metric { 1 name } } }.
    private void ReadMetrics(ByteString message)
    {
        foreach (var resourceMetrics in new ProtoFields(message).Messages(1))
        {
            var resource = Attributes(resourceMetrics.Message(1), 1);
            foreach (var metric in resourceMetrics.Messages(2).SelectMany(scope => scope.Messages(2)))
            {
                Metrics.Enqueue((metric.Text(1), resource));
            }
        }
    }

    // ExportLogsServiceRequest: 1 ResourceLogs { 1 Resource, 2 ScopeLogs { 2 LogRecord { 5 body } } }.
    private void ReadLogs(ByteString message)
    {
        foreach (var resourceLogs in new ProtoFields(message).Messages(1))
        {
            var resource = Attributes(resourceLogs.Message(1), 1);
            foreach (var record in resourceLogs.Messages(2).SelectMany(scope => scope.Messages(2)))
            {
                Logs.Enqueue((record.Message(5) is { } body ? body.Text(1) : string.Empty, resource));
            }
        }
    }

    // KeyValue: 1 key, 2 AnyValue { 1 string, 2 bool, 3 int64, 4 double }.
    private static Dictionary<string, object> Attributes(ProtoFields? owner, int field)
    {
        var attributes = new Dictionary<string, object>(StringComparer.Ordinal);
        foreach (var pair in owner?.Messages(field) ?? [])
        {
            var value = pair.Message(2);
            attributes[pair.Text(1)] = value switch
            {
                null => string.Empty,
                _ when value.Has(1) => value.Text(1),
                _ when value.Varint(2) is { } flag => flag != 0,
                _ when value.Varint(3) is { } number => (long)number,
                _ => "(unread)",
            };
        }

        return attributes;
    }

    public async ValueTask DisposeAsync()
    {
        _listener.Stop();
        _listener.Close();
        await _serving;
    }
}

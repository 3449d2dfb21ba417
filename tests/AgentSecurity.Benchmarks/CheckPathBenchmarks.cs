using System.Diagnostics.Metrics;
using AgentSecurity.Abstractions;
using AgentSecurity.Grains.Permissions;
using AgentSecurity.Grains.Telemetry;
using BenchmarkDotNet.Attributes;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Serialization;

namespace AgentSecurity.Benchmarks;

/// <summary>
/// What a check pays that a trivial call (<c>PingAsync</c>) on the same grain does not, part by part, for the breakdown
/// of <c>agentsec bench checks</c>: the request's and the answer's serialization (each written and read once, as the
/// client and the silo do between them), the decision, the checks counter with a listener attached (the silo's
/// Prometheus exporter listens to it), and what an allowed check adds to find whether its agent's summary is due (a read
/// of the kernel clock; handing the summary over happens once an interval per agent). Messaging, the trust boundary and
/// scheduling cost both calls the same.
/// </summary>
[MemoryDiagnoser]
public class CheckPathBenchmarks
{
    private static readonly CheckRequest Request = new("fileSystem:read", "/workspace/in.txt");

    private readonly byte[] _buffer = new byte[1024];
    private ServiceProvider _services = null!;
    private Serializer<CheckRequest> _requests = null!;
    private Serializer<Decision> _decisions = null!;
    private AgentPermissions _permissions = null!;
    private Decision _allowed = null!;
    private MeterListener _listener = null!;
    private AgentSecurityMetrics _metrics = null!;
    private long _counted;
    private DateTimeOffset _now;
    private long _summaryBegun;
    private readonly TimeSpan _summaryInterval = TimeSpan.FromHours(1); // never due: the check's cost when it is not

    [GlobalSetup]
    public void Setup()
    {
        _services = new ServiceCollection().AddSerializer().AddMetrics().BuildServiceProvider();
        _requests = _services.GetRequiredService<Serializer<CheckRequest>>();
        _decisions = _services.GetRequiredService<Serializer<Decision>>();
        _now = DateTimeOffset.UtcNow;
        _summaryBegun = TimeProvider.System.GetTimestamp();
        _permissions = TypicalGrant.Permissions(_now);
        _allowed = _permissions.Decide(Request, _now, "bench/a", out _);
        _metrics = new AgentSecurityMetrics(_services.GetRequiredService<IMeterFactory>());
        _listener = new MeterListener { InstrumentPublished = (instrument, l) => l.EnableMeasurementEvents(instrument) };
        _listener.SetMeasurementEventCallback<long>((_, value, _, _) => Interlocked.Add(ref _counted, value));
        _listener.Start();
        if (!_allowed.Allowed || RequestRoundTrip() != Request || AnswerRoundTrip() != _allowed)
        {
            throw new InvalidOperationException("a benchmark's part does not do what its name says");
        }

        Console.WriteLine($"// bytes on the wire: request {Size(_requests, Request)}, allowed answer {Size(_decisions, _allowed)}");
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _listener.Dispose();
        _services.Dispose();
    }

    [Benchmark]
    public CheckRequest? RequestRoundTrip()
    {
        var length = _requests.Serialize(Request, _buffer);
        return _requests.Deserialize(new ReadOnlySpan<byte>(_buffer, 0, length));
    }

    [Benchmark]
    public Decision? AnswerRoundTrip()
    {
        var length = _decisions.Serialize(_allowed, _buffer);
        return _decisions.Deserialize(new ReadOnlySpan<byte>(_buffer, 0, length));
    }

    [Benchmark(Baseline = true)]
    public Decision Decide() => _permissions.Decide(Request, _now, "bench/a", out _);

    [Benchmark]
    public void CountCheck() => _metrics.RecordCheck(_allowed.Reason);

    /// <summary>As <c>AgentAudit</c> asks it on every allowed check, with the system clock the silo's kernel uses.</summary>
    [Benchmark]
    public bool SummaryDue() => TimeProvider.System.GetElapsedTime(_summaryBegun) >= _summaryInterval;

    private int Size<T>(Serializer<T> serializer, T value) => serializer.Serialize(value, _buffer);
}

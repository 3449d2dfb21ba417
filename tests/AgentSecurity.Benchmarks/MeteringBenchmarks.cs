using AgentSecurity.Abstractions;
using AgentSecurity.Grains.Quotas;
using AgentSecurity.Grants.Capabilities;
using AgentSecurity.Grants.Policy;
using AgentSecurity.Grants.Quotas;
using BenchmarkDotNet.Attributes;

namespace AgentSecurity.Benchmarks;

/// <summary>
/// Quota accounting alone, for a file write of 100 bytes: one GCRA bucket (<see cref="RateBucket"/>), an agent's quotas
/// with every meterable limit of its grant active, planned and committed (<see cref="AgentQuotas"/>), and the same
/// quotas denying the write because a limit is spent (a denial consumes nothing, so it is decided again each time).
/// </summary>
[MemoryDiagnoser]
public class MeteringBenchmarks
{
    private const long Bytes = 100;

    private static readonly ResourceLimits EveryLimit = new()
    {
        ChecksPerSecond = 1_000_000_000,
        NetworkRequestsPerMinute = 1_000_000_000,
        LlmTokensPerHour = 1_000_000_000_000,
        FileBytesWrittenPerHour = 1_000_000_000_000,
        MemoryBytesStored = 1_000_000_000,
    };

    private readonly RateBucket _bucket = new(EveryLimit.ChecksPerSecond!.Value, TimeSpan.FromSeconds(1));
    private readonly AgentQuotas _quotas = new();
    private readonly AgentQuotas _spent = new();
    private DateTimeOffset _now;

    [GlobalSetup]
    public void Setup()
    {
        _now = DateTimeOffset.UtcNow;
        _quotas.Configure(EveryLimit, new Dictionary<string, BucketRecord>());
        _quotas.SetTenantLimits(TenantLimits.None, DateTimeOffset.MaxValue);
        _spent.Configure(new ResourceLimits { FileBytesWrittenPerHour = Bytes }, new Dictionary<string, BucketRecord>());
        _spent.SetTenantLimits(TenantLimits.None, DateTimeOffset.MaxValue);
        var spend = _spent.Plan(CheckKind.FileSystemWrite, Bytes, _now);
        _spent.Reserved(spend);
        _spent.Commit(spend, _now);
        if (!OneBucket() || GrantLimits() is null || DeniedBySpentLimit() is null)
        {
            throw new InvalidOperationException("a benchmark's check is not metered as its name says");
        }
    }

    // The clock moves a tick a check so the buckets refill as they would; at these limits nothing runs out in a run.
    [Benchmark(Baseline = true)]
    public bool OneBucket()
    {
        _now = _now.AddTicks(1);
        return _bucket.TryConsume(1, _now, out _);
    }

    [Benchmark]
    public long? GrantLimits()
    {
        _now = _now.AddTicks(1);
        var plan = _quotas.Plan(CheckKind.FileSystemWrite, Bytes, _now);
        if (plan.DenialReason is not null)
        {
            throw new InvalidOperationException($"a limit denied a metered check: {plan.DenialMessage}");
        }

        _quotas.Reserved(plan); // its first reservation taken as written: storage is not what is measured here
        _quotas.Commit(plan, _now);
        return plan.Remaining;
    }

    [Benchmark]
    public string? DeniedBySpentLimit() => _spent.Plan(CheckKind.FileSystemWrite, Bytes, _now).DenialMessage;
}

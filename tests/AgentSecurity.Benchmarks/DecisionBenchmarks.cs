using AgentSecurity.Abstractions;
using AgentSecurity.Grains.Permissions;
using AgentSecurity.Grains.Quotas;
using BenchmarkDotNet.Attributes;

namespace AgentSecurity.Benchmarks;

/// <summary>
/// One check as the agent grain decides it (<c>AgentGrain.DecideAndMeterAsync</c>), without messaging or audit: allowed
/// by the grant alone, denied by its scopes, and allowed with every meterable limit of the grant active.
/// </summary>
[MemoryDiagnoser]
public class DecisionBenchmarks
{
    private const string Agent = "bench/a";
    private static readonly CheckRequest InScope = new("fileSystem:write", "/workspace/reports/out.txt", 100);
    private static readonly CheckRequest OutOfScope = new("fileSystem:write", "/etc/passwd", 100);

    private readonly AgentQuotas _quotas = new();
    private AgentPermissions _grantOnly = null!;
    private AgentPermissions _limited = null!;
    private DateTimeOffset _now;

    [GlobalSetup]
    public void Setup()
    {
        _now = DateTimeOffset.UtcNow;
        _grantOnly = TypicalGrant.Permissions(_now);
        _limited = TypicalGrant.Permissions(_now, TypicalGrant.EveryMeteredLimit);
        _quotas.Configure(_limited.Active!.Limits, new Dictionary<string, BucketRecord>());
        _quotas.SetTenantLimits(TenantLimits.None, DateTimeOffset.MaxValue);
        if (!Allowed().Allowed || DeniedByScope().Allowed || !AllowedAndMetered().Allowed)
        {
            throw new InvalidOperationException("a benchmark's check is not decided as its name says");
        }
    }

    [Benchmark(Baseline = true)]
    public Decision Allowed() => _grantOnly.Decide(InScope, _now, Agent, out _);

    [Benchmark]
    public Decision DeniedByScope() => _grantOnly.Decide(OutOfScope, _now, Agent, out _);

    /// <summary>
    /// As <c>AgentMetering.MeterAsync</c> when nothing needs storage: plan, commit, and the decision with what remains.
    /// The clock moves a tick a check so the buckets refill as they would; at these limits nothing runs out in a run.
    /// </summary>
    [Benchmark]
    public Decision AllowedAndMetered()
    {
        _now = _now.AddTicks(1);
        var decision = _limited.Decide(InScope, _now, Agent, out var kind);
        var plan = _quotas.Plan(kind, InScope.Amount, _now);
        if (plan.DenialReason is not null)
        {
            throw new InvalidOperationException($"a limit denied a metered check: {plan.DenialMessage}");
        }

        _quotas.Reserved(plan); // its first reservation taken as written: storage is not what is measured here
        _quotas.Commit(plan, _now);
        return plan.Remaining is null ? decision : decision with { Remaining = plan.Remaining };
    }
}

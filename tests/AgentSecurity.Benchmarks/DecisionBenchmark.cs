using System.Diagnostics;
using AgentSecurity.Abstractions;
using AgentSecurity.Grains.Permissions;
using AgentSecurity.Grains.Quotas;
using AgentSecurity.Grants.Documents;
using AgentSecurity.Grants.Policy;
using AgentSecurity.Testing;

namespace AgentSecurity.Benchmarks;

/// <summary>
/// The cost of one decision inside the agent grain, without messaging: the grant alone, and the grant with every
/// meterable limit active (set high enough never to deny), alternating in the same run.
/// </summary>
internal static class DecisionBenchmark
{
    private const int Rounds = 7;
    private const int Iterations = 1_000_000;

    public static void Run()
    {
        var now = DateTimeOffset.UtcNow;
        var plain = Permissions(now, "{}");
        var limited = Permissions(now, """{"checksPerSecond":1000000000,"networkRequestsPerMinute":1000000000,"llmTokensPerHour":1000000000000,"fileBytesWrittenPerHour":1000000000000,"memoryBytesStored":1000000000}""");
        var quotas = new AgentQuotas();
        quotas.Configure(limited.Active!.Limits, new Dictionary<string, BucketRecord>());
        quotas.SetTenantLimits(TenantLimits.None, DateTimeOffset.MaxValue);
        var request = new CheckRequest("fileSystem:write", "/workspace/reports/out.txt", 100);

        var grantOnly = new List<double>();
        var withLimits = new List<double>();
        for (var round = 0; round < Rounds; round++)
        {
            grantOnly.Add(NanosPerOp(() => plain.Decide(request, now, "bench/a").Allowed));
            withLimits.Add(NanosPerOp(() =>
            {
                var decision = limited.Decide(request, now, "bench/a");
                var plan = quotas.Plan(CheckKind.FileSystemWrite, request.Amount, now);
                quotas.Commit(plan, now); // its reservation "written" at once: storage is not what is measured here
                return decision.Allowed && plan.DenialReason is null;
            }));
            now = now.AddSeconds(1); // keep the buckets from filling over the rounds
        }

        var a = Median(grantOnly);
        var b = Median(withLimits);
        Console.WriteLine($"decision, grant only:          {a:F0} ns (median of {Rounds} rounds of {Iterations:N0})");
        Console.WriteLine($"decision, every limit metered: {b:F0} ns");
        Console.WriteLine($"throughput ratio (limits / none): {a / b:F2}");
    }

    private static AgentPermissions Permissions(DateTimeOffset now, string limits) => new()
    {
        Active = ActiveGrant.Compile(GrantDocument.Parse(TestDocuments.Grant("bench", "a", now.AddMinutes(-1)).SetJson("resourceLimits", limits).SignWith(TestKeys.Root)).Value, TimeSpan.FromSeconds(60)),
    };

    private static double NanosPerOp(Func<bool> op)
    {
        var ok = 0;
        var started = Stopwatch.GetTimestamp();
        for (var i = 0; i < Iterations; i++)
        {
            ok += op() ? 1 : 0;
        }

        var elapsed = Stopwatch.GetElapsedTime(started);
        if (ok != Iterations)
        {
            throw new InvalidOperationException($"only {ok} of {Iterations} decisions were allowed");
        }

        return elapsed.TotalNanoseconds / Iterations;
    }

    public static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[(sorted.Length / 2) - 1] + sorted[sorted.Length / 2]) / 2;
    }
}

using AgentSecurity.Abstractions;
using AgentSecurity.Client;
using AgentSecurity.Grains;
using AgentSecurity.Grains.Memory;
using AgentSecurity.Hosting;
using AgentSecurity.Testing;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Storage;
using Orleans.TestingHost;

namespace AgentSecurity.Benchmarks;

/// <summary>
/// Heap per active agent grain with a typical grant (scopes and limits) that has decided a check: an in-process silo,
/// N agents activated, the managed heap measured after full collections before and after. Includes Orleans' own
/// activation overhead; the baseline is the same silo with the tenant created and no agents.
/// </summary>
internal static class ActivationMemoryBenchmark
{
    public static async Task RunAsync(int agents)
    {
        var builder = new TestClusterBuilder(1);
        builder.AddSiloBuilderConfigurator<BenchmarkSilo>();
        await using var cluster = builder.Build();
        await cluster.DeployAsync();
        var client = new AgentSecurityClient(cluster.Client);
        var now = Grants.Documents.DocumentTime.WholeSeconds(DateTimeOffset.UtcNow);
        await client.CreateTenantAsync(TestDocuments.Tenant("bench", now, TestKeys.Root.Did.Value).SignWith(TestKeys.Operator));
        var grants = Enumerable.Range(0, agents).Select(i => TestDocuments.Grant("bench", $"a{i}", now, $"g{i}")
            .SetJson("resourceLimits", """{"checksPerSecond":100,"llmTokensPerHour":100000,"fileBytesWrittenPerHour":10000000}""")
            .SignWith(TestKeys.Root)).ToArray();
        await client.CheckAsync("bench", "warm", new CheckRequest("llm"));

        var before = Heap();
        foreach (var chunk in grants.Chunk(200))
        {
            await Task.WhenAll(chunk.Select(g => client.ApplyGrantAsync(g)));
        }

        var checks = await Task.WhenAll(Enumerable.Range(0, agents).Select(i => client.CheckAsync("bench", $"a{i}", new CheckRequest("llm", null, 10))));
        var after = Heap();
        if (checks.Any(c => !c.Allowed))
        {
            throw new InvalidOperationException("a benchmark check was denied");
        }

        Console.WriteLine($"heap per active agent grain with a typical grant: {(after - before) / (double)agents:F0} bytes ({agents:N0} agents)");
        GC.KeepAlive(checks);
    }

    private static long Heap()
    {
        for (var i = 0; i < 3; i++)
        {
            GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
            GC.WaitForPendingFinalizers();
        }

        return GC.GetTotalMemory(forceFullCollection: true);
    }
}

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
/// activation overhead, so the same run first activates N trivial grains (<see cref="ITrivialGrain"/>): what Orleans
/// keeps per activation. The answers are not kept (the client's copies are not the silo's heap). With
/// <c>AGENTSEC_BENCH_HOLD=1</c> the process waits for a line on its input after each step, for heap dumps
/// (<c>dotnet-dump collect -p PID</c>, then <c>dumpheap -stat</c>) whose difference says which types hold the bytes.
/// With <c>--distinct</c> each agent's grant differs in a file scope (<c>/workspace/a{i}/**</c>), so no two agents share
/// a grant's template or policy: what an agent costs when it is the only one given its grant.
/// </summary>
internal static class ActivationMemoryBenchmark
{
    public static async Task RunAsync(int agents, bool distinct)
    {
        var builder = new TestClusterBuilder(1);
        builder.AddSiloBuilderConfigurator<BenchmarkSilo>();
        builder.AddClientBuilderConfigurator<BenchmarkClient>();
        await using var cluster = builder.Build();
        await cluster.DeployAsync();
        var client = new AgentSecurityClient(cluster.Client);
        var now = Grants.Documents.DocumentTime.WholeSeconds(DateTimeOffset.UtcNow);
        await client.CreateTenantAsync(TestDocuments.Tenant("bench", now, TestKeys.Root.Did.Value).SignWith(TestKeys.Operator));
        var grants = Enumerable.Range(0, agents).Select(i => TestDocuments.Grant("bench", $"a{i}", now, $"g{i}")
            .SetJson("resourceLimits", """{"checksPerSecond":100,"llmTokensPerHour":100000,"fileBytesWrittenPerHour":10000000}""")
            .SetJson("scopes", distinct ? $$"""{"fileSystem":["/workspace/a{{i}}/**"],"network":["*.example.com:443"],"memory":["notes/**"]}""" : """{"fileSystem":["/workspace/**"],"network":["*.example.com:443"],"memory":["notes/**"]}""")
            .SignWith(TestKeys.Root)).ToArray();
        await client.CheckAsync("bench", "warm", new CheckRequest("llm"));

        var before = Heap();
        foreach (var chunk in Enumerable.Range(0, agents).Chunk(500))
        {
            await Task.WhenAll(chunk.Select(i => cluster.Client.GetGrain<ITrivialGrain>($"t{i}").PingAsync()));
        }

        var trivial = Heap();
        Hold("trivial grains");
        foreach (var chunk in grants.Chunk(200))
        {
            if ((await Task.WhenAll(chunk.Select(g => client.ApplyGrantAsync(g)))).Any(a => !a.Applied))
            {
                throw new InvalidOperationException("a benchmark grant was refused");
            }
        }

        var denied = 0;
        foreach (var chunk in Enumerable.Range(0, agents).Chunk(500))
        {
            denied += (await Task.WhenAll(chunk.Select(i => client.CheckAsync("bench", $"a{i}", new CheckRequest("llm", null, 10))))).Count(c => !c.Allowed);
        }

        var after = Heap();
        if (denied > 0)
        {
            throw new InvalidOperationException($"{denied} benchmark checks were denied");
        }

        Console.WriteLine($"heap per active trivial grain: {(trivial - before) / (double)agents:F0} bytes ({agents:N0} grains)");
        Console.WriteLine($"heap per active agent grain with a typical grant: {(after - trivial) / (double)agents:F0} bytes ({agents:N0} agents{(distinct ? ", each grant its own" : string.Empty)})");
        Hold("agents");
        GC.KeepAlive(grants);
    }

    /// <summary>Waits, when asked to, for a heap dump of what is active now (before the next step or the end).</summary>
    private static void Hold(string stage)
    {
        if (Environment.GetEnvironmentVariable("AGENTSEC_BENCH_HOLD") == "1")
        {
            Console.WriteLine($"holding after the {stage} for a heap dump (dotnet-dump collect -p {Environment.ProcessId}); press enter to go on");
            Console.ReadLine();
        }
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

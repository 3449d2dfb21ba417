using AgentSecurity.Abstractions;
using AgentSecurity.Grains.Permissions;
using BenchmarkDotNet.Attributes;

namespace AgentSecurity.Benchmarks;

/// <summary>
/// The decision of each check in <c>agentsec bench checks</c>' mix (every meterable kind, with amounts where metered),
/// against the typical grant: what the silo decides per check of that benchmark, request by request.
/// </summary>
[MemoryDiagnoser]
public class CheckMixBenchmarks
{
    private static readonly CheckRequest[] Mix =
    [
        new("fileSystem:read", "/workspace/in.txt"),
        new("fileSystem:write", "/workspace/out.txt", 4096),
        new("network:outbound", "api.example.com:443"),
        new("llm", null, 100),
        new("memory:write", "notes/today", 256),
    ];

    private AgentPermissions _permissions = null!;
    private DateTimeOffset _now;

    [Params(0, 1, 2, 3, 4)]
    public int Request { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _now = DateTimeOffset.UtcNow;
        _permissions = TypicalGrant.Permissions(_now);
        if (!_permissions.Decide(Mix[Request], _now, "bench/a", out _).Allowed)
        {
            throw new InvalidOperationException($"the typical grant does not allow {Mix[Request]}");
        }
    }

    [Benchmark]
    public Decision Decide() => _permissions.Decide(Mix[Request], _now, "bench/a", out _);
}

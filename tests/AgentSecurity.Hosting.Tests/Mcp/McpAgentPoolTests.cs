using System.Reflection;
using AgentSecurity.Abstractions;
using AgentSecurity.Grants;
using AgentSecurity.Hosting.Mcp;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace AgentSecurity.Hosting.Tests.Mcp;

/// <summary>
/// The agents' gateways of the MCP endpoint, with a stand-in for the agent's grain that answers admissions as told. No
/// sandbox is registered, so no server starts: these tests are about when a gateway is kept, replaced and stopped.
/// </summary>
public sealed class McpAgentPoolTests
{
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 12, 1, 0, 0, 0, TimeSpan.Zero));

    /// <summary>An <see cref="IAgentGrain"/> whose only method is <see cref="IAgentGrain.AdmitServerAsync"/>, answering <see cref="Admission"/>.</summary>
    public class AdmittingGrain : DispatchProxy
    {
        public ServerAdmission Admission { get; set; } = null!;

        protected override object? Invoke(MethodInfo? targetMethod, object?[]? args) =>
            targetMethod?.Name == nameof(IAgentGrain.AdmitServerAsync)
                ? Task.FromResult(Admission)
                : throw new NotSupportedException(targetMethod?.Name);
    }

    private (IAgentGrain Grain, AdmittingGrain Answers) Grain(ServerAdmission admission)
    {
        var grain = DispatchProxy.Create<IAgentGrain, AdmittingGrain>();
        var answers = (AdmittingGrain)(object)grain;
        answers.Admission = admission;
        return (grain, answers);
    }

    private ServerAdmission Admitted(string grantId = "g-1", TimeSpan? lifetime = null) => new()
    {
        Admitted = true,
        GrantId = grantId,
        WorkspaceAccess = ServerWorkspaceAccess.Write,
        MaxMemoryBytes = 512L * 1024 * 1024,
        Processes = 32,
        FileBytes = 1024,
        ExpiresAt = _time.GetUtcNow() + (lifetime ?? TimeSpan.FromDays(1)),
    };

    private McpAgentPool Pool(int maxAgents = 64) => new(
        Options.Create(new McpEndpointOptions { IdleTimeout = TimeSpan.FromMinutes(10), MaxAgents = maxAgents, Servers = { ["fs"] = new McpServerConfig { Command = "/usr/bin/node" } } }),
        new ServiceCollection().BuildServiceProvider(),
        NullLoggerFactory.Instance,
        _time);

    [Fact]
    public async Task EnterAsync_AdmittedTwice_SharesOneGatewayPerAgent()
    {
        await using var pool = Pool();
        var (grain, _) = Grain(Admitted());

        var first = await pool.EnterAsync("t", "bot", grain);
        var second = await pool.EnterAsync("t", "bot", grain);

        Assert.NotNull(first.Gateway);
        Assert.Same(first.Gateway, second.Gateway);
        Assert.Equal(1, pool.Count);
    }

    [Fact]
    public async Task EnterAsync_RefusedAfterAdmitted_StopsTheGatewayAndAnswersTheCode()
    {
        await using var pool = Pool();
        var (grain, answers) = Grain(Admitted());
        await pool.EnterAsync("t", "bot", grain);

        answers.Admission = ServerAdmission.Refused(ReasonCodes.Quarantined, "quarantined by an admin");
        var refused = await pool.EnterAsync("t", "bot", grain);

        Assert.Null(refused.Gateway);
        Assert.Equal(ReasonCodes.Quarantined, refused.Error);
        Assert.Equal(0, pool.Count);
    }

    [Fact]
    public async Task EnterAsync_NewGrant_ReplacesTheGateway()
    {
        await using var pool = Pool();
        var (grain, answers) = Grain(Admitted("g-1"));
        var before = await pool.EnterAsync("t", "bot", grain);

        answers.Admission = Admitted("g-2");
        var after = await pool.EnterAsync("t", "bot", grain);

        Assert.NotSame(before.Gateway, after.Gateway);
        Assert.Equal(1, pool.Count);
    }

    [Fact]
    public async Task EnterAsync_MoreAgentsThanMaxAgents_IsUnavailable()
    {
        await using var pool = Pool(maxAgents: 1);
        var (grain, _) = Grain(Admitted());
        await pool.EnterAsync("t", "bot", grain);

        var refused = await pool.EnterAsync("t", "other", grain);

        Assert.Null(refused.Gateway);
        Assert.Equal(ReasonCodes.Unavailable, refused.Error);
    }

    [Fact]
    public async Task SweepAsync_IdlePastTheTimeout_StopsTheGateway()
    {
        await using var pool = Pool();
        var (grain, _) = Grain(Admitted());
        await pool.EnterAsync("t", "bot", grain);

        _time.Advance(TimeSpan.FromMinutes(9));
        await pool.SweepAsync();
        var keptWhileUsed = pool.Count;
        _time.Advance(TimeSpan.FromMinutes(2));
        await pool.SweepAsync();

        Assert.Equal(1, keptWhileUsed);
        Assert.Equal(0, pool.Count);
    }

    [Fact]
    public async Task SweepAsync_GrantExpired_StopsTheGateway()
    {
        await using var pool = Pool();
        var (grain, _) = Grain(Admitted(lifetime: TimeSpan.FromMinutes(1)));
        var before = await pool.EnterAsync("t", "bot", grain);

        _time.Advance(TimeSpan.FromMinutes(2));
        await pool.SweepAsync();
        var afterExpiry = pool.Count;

        Assert.Equal(0, afterExpiry);
        Assert.NotNull(before.Gateway);
    }
}

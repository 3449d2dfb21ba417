using AgentSecurity.Abstractions;
using AgentSecurity.Abstractions.Tools;
using AgentSecurity.Grants;
using AgentSecurity.Hosting.Mcp;
using AgentSecurity.Mcp.Gate;

namespace AgentSecurity.Hosting.Tests.Mcp;

public sealed class KillSwitchToolGateTests
{
    private sealed class Answering(Decision decision) : IToolGate
    {
        public Task<bool[]> SelectVisibleToolsAsync(IReadOnlyList<ToolListing> tools, CancellationToken cancellationToken) => Task.FromResult(new bool[tools.Count]);

        public Task<ToolCallDecision> CheckToolCallAsync(ToolCall toolCall, CancellationToken cancellationToken) => Task.FromResult(new ToolCallDecision { Decision = decision });

        public Task<bool[]> SelectAllowedAsync(IReadOnlyList<CheckRequest> checks, CancellationToken cancellationToken) => Task.FromResult(new bool[checks.Count]);

        public Task RecordToolChangedAsync(ToolListing before, ToolListing after, CancellationToken cancellationToken) => Task.CompletedTask;
    }

    private static async Task<(ToolCallDecision Answer, string? Killed)> CallAsync(Decision decision)
    {
        string? killed = null;
        var gate = new KillSwitchToolGate(new Answering(decision), reason => killed = reason);
        var answer = await gate.CheckToolCallAsync(new ToolCall { Tool = "fs/read_text_file" }, CancellationToken.None);
        return (answer, killed);
    }

    [Theory]
    [InlineData(ReasonCodes.Quarantined)]
    [InlineData(ReasonCodes.Revoked)]
    [InlineData(ReasonCodes.Expired)]
    [InlineData(ReasonCodes.NoGrant)]
    [InlineData(ReasonCodes.IsolationForbids)]
    public async Task CheckToolCallAsync_RefusalThatEndsTheAgentsRight_PullsTheKillSwitchAndAnswersTheRefusal(string reason)
    {
        var (answer, killed) = await CallAsync(Decision.Deny(reason, "no"));

        Assert.Equal(reason, killed);
        Assert.Equal(reason, answer.Decision.Reason);
    }

    [Theory]
    [InlineData(ReasonCodes.OutOfScope)]
    [InlineData(ReasonCodes.ApprovalRequired)]
    [InlineData(ReasonCodes.Unavailable)]
    public async Task CheckToolCallAsync_RefusalOfOneCall_LeavesTheServersRunning(string reason)
    {
        var (answer, killed) = await CallAsync(Decision.Deny(reason, "no"));

        Assert.Null(killed);
        Assert.False(answer.Allowed);
    }

    [Fact]
    public async Task CheckToolCallAsync_Allowed_LeavesTheServersRunning()
    {
        var (answer, killed) = await CallAsync(new Decision { Allowed = true, Reason = ReasonCodes.Allowed, Message = "ok" });

        Assert.Null(killed);
        Assert.True(answer.Allowed);
    }
}

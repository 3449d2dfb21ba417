using System.Reflection;
using AgentSecurity.Abstractions;
using AgentSecurity.Abstractions.Boundary;
using AgentSecurity.Abstractions.Tools;
using AgentSecurity.Grants;
using AgentSecurity.Mcp.Gate;
using Microsoft.Extensions.Logging.Abstractions;

namespace AgentSecurity.Mcp.Tests.Gate;

public sealed class AgentToolGateTests
{
    private static readonly ToolCall Call = new() { Tool = "fs/read_text_file" };

    [Fact]
    public async Task CheckToolCallAsync_GrainThrows_DeniedUnavailableWithoutTheExceptionsText()
    {
        var gate = new AgentToolGate(FailingGrain.Create(new TimeoutException("silo S10.0.0.7:11111 gone")), "t/a", NullLogger<AgentToolGate>.Instance);

        var decision = await gate.CheckToolCallAsync(Call, CancellationToken.None);

        Assert.False(decision.Allowed);
        Assert.Equal(ReasonCodes.Unavailable, decision.Decision.Reason);
        Assert.Contains(nameof(TimeoutException), decision.Decision.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("10.0.0.7", decision.Decision.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CheckToolCallAsync_BoundaryRefusesCaller_DeniedWithItsCode()
    {
        var gate = new AgentToolGate(FailingGrain.Create(new CallRefusedException(ReasonCodes.Forbidden, "no check right")), "t/a", NullLogger<AgentToolGate>.Instance);

        var decision = await gate.CheckToolCallAsync(Call, CancellationToken.None);

        Assert.Equal((false, ReasonCodes.Forbidden), (decision.Allowed, decision.Decision.Reason));
    }

    [Fact]
    public async Task SelectVisibleToolsAsync_GrainThrows_NothingVisible()
    {
        var gate = new AgentToolGate(FailingGrain.Create(new InvalidOperationException("broken")), "t/a", NullLogger<AgentToolGate>.Instance);

        var visible = await gate.SelectVisibleToolsAsync([new ToolListing("fs/a", null), new ToolListing("fs/b", null)], CancellationToken.None);

        Assert.Equal([false, false], visible);
    }

    [Fact]
    public async Task SelectAllowedAsync_GrainThrows_NothingAllowed()
    {
        var gate = new AgentToolGate(FailingGrain.Create(new TimeoutException("no answer")), "t/a", NullLogger<AgentToolGate>.Instance);

        var allowed = await gate.SelectAllowedAsync([new CheckRequest(Capabilities.FileSystemRead, "/srv/a"), new CheckRequest(Capabilities.FileSystemRead, "/srv/b")], CancellationToken.None);

        Assert.Equal([false, false], allowed);
    }

    /// <summary>An agent grain whose every call fails, as one behind an unreachable cluster does.</summary>
    public class FailingGrain : DispatchProxy
    {
        private Exception _failure = new InvalidOperationException();

        public static IAgentGrain Create(Exception failure)
        {
            var grain = DispatchProxy.Create<IAgentGrain, FailingGrain>();
            ((FailingGrain)(object)grain)._failure = failure;
            return grain;
        }

        protected override object? Invoke(MethodInfo? targetMethod, object?[]? args)
        {
            var type = targetMethod!.ReturnType;
            if (type.IsGenericType && type.GetGenericTypeDefinition() == typeof(Task<>))
            {
                var fromException = typeof(Task).GetMethod(nameof(Task.FromException), 1, [typeof(Exception)])!.MakeGenericMethod(type.GetGenericArguments()[0]);
                return fromException.Invoke(null, [_failure]);
            }

            return type == typeof(Task) ? Task.FromException(_failure) : throw _failure;
        }
    }
}

using System.Reflection;
using AgentSecurity.Abstractions;
using AgentSecurity.Abstractions.Tools;
using AgentSecurity.AI.Guard;
using AgentSecurity.AI.Tests.Infrastructure;
using AgentSecurity.Grants;
using Microsoft.Extensions.AI;
using static AgentSecurity.AI.Tests.Infrastructure.ScriptedChatClient;

namespace AgentSecurity.AI.Tests.ChatClients;

/// <summary>A grain that cannot answer: nothing is offered, nothing runs, every refusal says <c>unavailable</c>.</summary>
public sealed class UnreachableTests
{
    private readonly PlatformTools _tools = new();

    /// <summary>An agent grain whose calls fail as a call to an unreachable cluster does, except those <paramref name="answers"/> answers.</summary>
    public class FailingGrain : DispatchProxy
    {
        public Func<MethodInfo, object?[]?, object?>? Answers { get; set; }

        public static IAgentGrain Create(Func<MethodInfo, object?[]?, object?>? answers = null)
        {
            var grain = DispatchProxy.Create<IAgentGrain, FailingGrain>();
            ((FailingGrain)(object)grain).Answers = answers;
            return grain;
        }

        protected override object? Invoke(MethodInfo? targetMethod, object?[]? args) =>
            Answers?.Invoke(targetMethod!, args) ?? throw new SiloUnavailableException("no silo answers");
    }

    [Fact]
    public async Task GetResponse_ClusterUnreachable_RefusesTheModelCallUnavailableAndNeverCallsIt()
    {
        var model = new ScriptedChatClient(Calls("get_weather", new { city = "Oslo" }));

        var response = await model.AsBuilder().UseAgentSecurity(FailingGrain.Create()).Build()
            .GetResponseAsync("weather?", new ChatOptions { Tools = [_tools.GetWeather] });

        Assert.Equal(0, model.CallCount);
        Assert.Equal(0, _tools.Weather);
        Assert.StartsWith($"{ReasonCodes.Unavailable}: ", response.Text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task GetResponse_ToolCheckUnreachable_RefusesTheCallUnavailable()
    {
        // The model's check and the listing answer; the tool call's check does not reach the grain.
        var grain = FailingGrain.Create((method, args) => method.Name switch
        {
            nameof(IAgentGrain.CheckAsync) => Task.FromResult(new Decision { Allowed = true, Reason = ReasonCodes.Allowed, Message = "ok" }),
            nameof(IAgentGrain.ChargeUsageAsync) => Task.FromResult(new Decision { Allowed = true, Reason = ReasonCodes.Allowed, Message = "ok" }),
            nameof(IAgentGrain.SelectVisibleToolsAsync) => Task.FromResult(((IReadOnlyList<ToolListing>)args![0]!).Select(_ => true).ToArray()),
            nameof(IAgentGrain.ExplainAsync) => Task.FromResult(new Explanation { Decision = new Decision { Allowed = true, Reason = ReasonCodes.Allowed, Message = "ok" }, DecidedBy = "test" }),
            _ => null,
        });
        var model = new ScriptedChatClient(Calls("get_weather", new { city = "Oslo" }), Says("could not"));

        var response = await model.AsBuilder().UseAgentSecurity(grain).Build().GetResponseAsync("weather?", new ChatOptions { Tools = [_tools.GetWeather] });

        Assert.Equal(0, _tools.Weather);
        var result = response.Messages.SelectMany(m => m.Contents).OfType<FunctionResultContent>().Single();
        Assert.StartsWith($"{ReasonCodes.Unavailable}: ", result.Result?.ToString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(0, 10)]
    [InlineData(1, 0)]
    [InlineData(1, 1001)]
    public void UseAgentSecurity_OptionOutOfRange_Throws(long tokens, int iterations)
    {
        var builder = new ScriptedChatClient(Says("x")).AsBuilder();

        Assert.Throws<ArgumentException>(() => builder.UseAgentSecurity(FailingGrain.Create(), o =>
        {
            o.TokensCheckedBeforeCall = tokens;
            o.MaximumIterationsPerRequest = iterations;
        }));
    }
}

using AgentSecurity.Abstractions;
using AgentSecurity.AI.Guard;
using AgentSecurity.AI.Tests.Infrastructure;
using AgentSecurity.Grants;
using AgentSecurity.Testing;
using Microsoft.Agents.AI;
using Microsoft.Extensions.AI;
using static AgentSecurity.AI.Tests.Infrastructure.ScriptedChatClient;

namespace AgentSecurity.AI.Tests.Agents;

/// <summary>The agent guard through Microsoft Agent Framework's real <see cref="ChatClientAgent"/> pipeline.</summary>
[Collection(KernelCollection.Name)]
public sealed class AgentGuardTests(KernelFixture kernel)
{
    private readonly PlatformTools _tools = new();

    private AIAgent Agent(IChatClient model, IAgentGrain grain, bool asIs) =>
        new AIAgentBuilder(new ChatClientAgent(model, new ChatClientAgentOptions
        {
            Name = "bot",
            ChatOptions = new ChatOptions { Tools = [_tools.GetWeather, _tools.DeleteRepo] },
            UseProvidedChatClientAsIs = asIs,
        }))
        .UseAgentSecurity(grain)
        .Build();

    [Theory]
    [InlineData(true)]
    [InlineData(false)] // the agent's own function invocation under the guard's
    public async Task Run_GrantedToolRunsAndUngrantedIsRefused(bool asIs)
    {
        var (_, bot) = await kernel.AgentAsync(t => TestDocuments.GrantV2(t, "bot", kernel.Now, ["local/get_weather"]));
        var model = new ScriptedChatClient(Calls("get_weather", new { city = "Oslo" }), Calls("delete_repo", new { repo = "prod" }), Says("done"));

        var response = await Agent(model, bot, asIs).RunAsync("weather, then clean up");

        Assert.Equal((1, 0), (_tools.Weather, _tools.Deleted));
        Assert.Equal(["get_weather"], model.Offered[0]);
        var results = response.Messages.SelectMany(m => m.Contents).OfType<FunctionResultContent>().Select(r => r.Result?.ToString()).ToList();
        Assert.Equal("sunny in Oslo", results[0]);
        Assert.Equal("done", response.Text);
        if (asIs)
        {
            Assert.StartsWith($"{ReasonCodes.OutOfScope}: ", results[1], StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Run_QuarantinedAgent_IsRefusedWholeWithoutCallingTheModel()
    {
        var (tenant, bot) = await kernel.AgentAsync(t => TestDocuments.GrantV2(t, "bot", kernel.Now, ["local/*"]));
        var quarantined = await bot.QuarantineAsync(TestDocuments.Quarantine(tenant, "bot", kernel.Now, reason: "exfiltration").SignWith(TestKeys.Root));
        Assert.True(quarantined.Accepted, quarantined.Message);
        var model = new ScriptedChatClient(Calls("get_weather", new { city = "Oslo" }));
        var agent = Agent(model, bot, asIs: true);

        var started = 0;
        var run = new ChatClientAgentRunOptions { ChatClientFactory = client => { Interlocked.Increment(ref started); return client; } };

        var response = await agent.RunAsync("weather?", options: run);
        var streamed = await agent.RunStreamingAsync("weather?", options: run).ToListAsync();

        Assert.Equal(0, started); // the run never started: refused before the agent's pipeline, not by its first model check
        Assert.Equal(0, model.CallCount);
        Assert.Equal(0, _tools.Weather);
        Assert.StartsWith($"{ReasonCodes.Quarantined}: ", response.Text, StringComparison.Ordinal);
        Assert.Equal(ReasonCodes.Quarantined, response.AdditionalProperties?[Refusals.ReasonProperty]);
        Assert.StartsWith($"{ReasonCodes.Quarantined}: ", string.Concat(streamed.Select(u => u.Text)), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Run_AgentWithoutAGrant_IsRefusedNoGrant()
    {
        var (tenant, _) = await kernel.AgentAsync(t => TestDocuments.GrantV2(t, "bot", kernel.Now, ["local/*"]));
        var model = new ScriptedChatClient(Says("hi"));

        var response = await Agent(model, kernel.Client.Agent(tenant, "nobody"), asIs: true).RunAsync("hi");

        Assert.Equal(0, model.CallCount);
        Assert.StartsWith($"{ReasonCodes.NoGrant}: ", response.Text, StringComparison.Ordinal);
    }
}

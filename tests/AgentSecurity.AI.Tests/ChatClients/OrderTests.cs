using AgentSecurity.AI.Tests.Infrastructure;
using AgentSecurity.Testing;
using Microsoft.Extensions.AI;
using static AgentSecurity.AI.Tests.Infrastructure.ScriptedChatClient;

namespace AgentSecurity.AI.Tests.ChatClients;

/// <summary>
/// A function-invoking client put in front of the guard (<c>UseFunctionInvocation().UseAgentSecurity(...)</c>) holds the
/// caller's own, unchecked functions: nothing the guard returns may give it a call to make.
/// </summary>
[Collection(KernelCollection.Name)]
public sealed class OrderTests(KernelFixture kernel)
{
    private readonly PlatformTools _tools = new();

    [Fact]
    public async Task GetResponse_FunctionInvocationInFrontOfTheGuard_NeverRunsACallTheGuardLeftOpen()
    {
        var (_, bot) = await kernel.AgentAsync(t => TestDocuments.GrantV2(t, "bot", kernel.Now, ["local/get_weather"]));
        var model = new ScriptedChatClient(Calls("delete_repo", new { repo = "prod" }));
        var client = model.AsBuilder().UseFunctionInvocation().UseAgentSecurity(bot, o => o.MaximumIterationsPerRequest = 2).Build();

        var response = await client.GetResponseAsync("clean", new ChatOptions { Tools = [_tools.GetWeather, _tools.DeleteRepo] });

        Assert.Equal(0, _tools.Deleted);
        Assert.All(response.Messages.SelectMany(m => m.Contents).OfType<FunctionCallContent>().Where(c => !response.Messages.SelectMany(m => m.Contents).OfType<FunctionResultContent>().Any(r => r.CallId == c.CallId)),
            c => Assert.True(c.InformationalOnly));
    }

    [Fact]
    public async Task GetStreamingResponse_FunctionInvocationInFrontOfTheGuard_NeverRunsACallTheGuardLeftOpen()
    {
        var (_, bot) = await kernel.AgentAsync(t => TestDocuments.GrantV2(t, "bot", kernel.Now, ["local/get_weather"]));
        var model = new ScriptedChatClient(Calls("delete_repo", new { repo = "prod" }));
        var client = model.AsBuilder().UseFunctionInvocation().UseAgentSecurity(bot, o => o.MaximumIterationsPerRequest = 2).Build();

        await client.GetStreamingResponseAsync("clean", new ChatOptions { Tools = [_tools.GetWeather, _tools.DeleteRepo] }).ToListAsync();

        Assert.Equal(0, _tools.Deleted);
    }
}

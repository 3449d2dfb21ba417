using AgentSecurity.Abstractions;
using AgentSecurity.AI.Guard;
using AgentSecurity.AI.Tests.Infrastructure;
using AgentSecurity.Grants;
using AgentSecurity.Testing;
using Microsoft.Extensions.AI;
using static AgentSecurity.AI.Tests.Infrastructure.ScriptedChatClient;

namespace AgentSecurity.AI.Tests.ChatClients;

/// <summary>Model calls metered against <c>llmTokensPerHour</c>: checked before, charged what they used after.</summary>
[Collection(KernelCollection.Name)]
public sealed class TokenMeteringTests(KernelFixture kernel)
{
    private Task<(string Tenant, IAgentGrain Bot)> AgentWithBudgetAsync(long tokens) =>
        kernel.AgentAsync(t => TestDocuments.GrantV2(t, "bot", kernel.Now, ["local/*"]).SetJson("resourceLimits", $$"""{"llmTokensPerHour":{{tokens}}}"""));

    private static string? ReasonOf(ChatResponse response) => response.AdditionalProperties?.GetValueOrDefault(Refusals.ReasonProperty) as string;

    [Fact]
    public async Task GetResponse_UsageUpToTheBudget_IsAllowedToTheLastTokenThenRefusedWithoutCallingTheModel()
    {
        var (_, bot) = await AgentWithBudgetAsync(100);
        var model = new ScriptedChatClient(Says("a", 40), Says("b", 40), Says("c", 19), Says("d", 1), Says("e", 1));
        var client = model.AsBuilder().UseAgentSecurity(bot).Build();

        var answers = new List<ChatResponse>();
        for (var i = 0; i < 5; i++)
        {
            answers.Add(await client.GetResponseAsync("go"));
        }

        Assert.Equal(["a", "b", "c", "d"], answers.Take(4).Select(a => a.Text));
        Assert.Equal(4, model.CallCount); // the fifth never reached the model: 100 tokens are spent
        Assert.Equal(ReasonCodes.QuotaExceeded, ReasonOf(answers[4]));
        Assert.StartsWith($"{ReasonCodes.QuotaExceeded}: ", answers[4].Text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task GetResponse_CallUsingMoreThanIsLeft_IsChargedInFullAndTheNextRefused()
    {
        var (_, bot) = await AgentWithBudgetAsync(100);
        var model = new ScriptedChatClient(Says("big", 250), Says("never"));
        var client = model.AsBuilder().UseAgentSecurity(bot).Build();

        await client.GetResponseAsync("go");
        KernelFixture.Time.Advance(TimeSpan.FromHours(1)); // refills 100 of the 250 charged: still 150 over
        var refused = await client.GetResponseAsync("go");

        Assert.Equal(1, model.CallCount);
        Assert.Equal(ReasonCodes.QuotaExceeded, ReasonOf(refused));
    }

    [Theory]
    [InlineData(null)]
    [InlineData(-5L)]
    public async Task GetResponse_UsageMissingOrNegative_SpendsTheWholeBudget(long? reported)
    {
        var (tenant, bot) = await AgentWithBudgetAsync(1000);
        var model = new ScriptedChatClient(_ => new ChatResponse(new ChatMessage(ChatRole.Assistant, "x")) { Usage = reported is null ? null : new UsageDetails { TotalTokenCount = reported } }, Says("never"));
        var client = model.AsBuilder().UseAgentSecurity(bot).Build();

        await client.GetResponseAsync("go");
        var refused = await client.GetResponseAsync("go");

        Assert.Equal(1, model.CallCount);
        Assert.Equal(ReasonCodes.QuotaExceeded, ReasonOf(refused));
        var unreported = await kernel.EventsAsync(tenant, e => e.OfType<Abstractions.Audit.DecisionEvent>().Any(d => d.Reason == ReasonCodes.UsageUnreported));
        Assert.Contains(unreported.OfType<Abstractions.Audit.DecisionEvent>(), d => d.Capability == Capabilities.Llm && d.Reason == ReasonCodes.UsageUnreported);
    }

    [Fact]
    public async Task GetStreamingResponse_UsageReportedInTheStream_IsCharged()
    {
        var (_, bot) = await AgentWithBudgetAsync(100);
        var model = new ScriptedChatClient(Says("a", 100), Says("never"));
        var client = model.AsBuilder().UseAgentSecurity(bot).Build();

        var first = await client.GetStreamingResponseAsync("go").ToListAsync();
        var second = await client.GetStreamingResponseAsync("go").ToListAsync();

        Assert.Equal("a", string.Concat(first.Select(u => u.Text)));
        Assert.Equal(1, model.CallCount);
        Assert.StartsWith($"{ReasonCodes.QuotaExceeded}: ", string.Concat(second.Select(u => u.Text)), StringComparison.Ordinal);
    }
}

using AgentSecurity.Abstractions;
using AgentSecurity.Abstractions.Audit;
using AgentSecurity.Grains.Tests.Infrastructure;
using AgentSecurity.Grants;
using AgentSecurity.Testing;

namespace AgentSecurity.Grains.Tests.Quotas;

/// <summary>
/// <see cref="IAgentGrain.ChargeUsageAsync"/>: what a model call really used, charged after its <c>llm</c> check against
/// <c>llmTokensPerHour</c>, past the budget if need be; a usage nobody can read is never free.
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class ChargeUsageTests(ClusterFixture fixture)
{
    private async Task<(string Tenant, IAgentGrain Bot)> BotAsync(string? limits)
    {
        var tenant = await fixture.NewTenantAsync();
        var grant = TestDocuments.Grant(tenant, "bot", fixture.Now);
        await fixture.ApplyAsync((limits is null ? grant : grant.SetJson("resourceLimits", limits)).SignWith(TestKeys.Root));
        return (tenant, fixture.Client.Agent(tenant, "bot"));
    }

    private static CheckRequest Used(long? tokens) => new(Capabilities.Llm, "gpt-x", tokens);

    [Fact]
    public async Task ChargeUsage_WithinTheBudget_IsChargedAndSaysWhatIsLeft()
    {
        var (_, bot) = await BotAsync("""{"llmTokensPerHour":1000}""");

        var charged = await bot.ChargeUsageAsync(Used(300));

        Assert.True(charged.Allowed, charged.Message);
        Assert.Equal(700, charged.Remaining);
        Assert.Equal(ReasonCodes.QuotaExceeded, (await bot.CheckAsync(CheckRequests.Llm("gpt-x", 701))).Reason);
        Assert.True((await bot.CheckAsync(CheckRequests.Llm("gpt-x", 700))).Allowed);
    }

    [Fact]
    public async Task ChargeUsage_PastTheBudget_IsChargedInFullAndRefusesChecksUntilItRefills()
    {
        var (_, bot) = await BotAsync("""{"llmTokensPerHour":1000}""");

        Assert.True((await bot.ChargeUsageAsync(Used(1500))).Allowed);
        ClusterFixture.Time.Advance(TimeSpan.FromMinutes(30)); // 500 refilled: 1000 still in use

        Assert.Equal(ReasonCodes.QuotaExceeded, (await bot.CheckAsync(CheckRequests.Llm("gpt-x", 1))).Reason);
        ClusterFixture.Time.Advance(TimeSpan.FromMinutes(1));
        Assert.True((await bot.CheckAsync(CheckRequests.Llm("gpt-x", 1))).Allowed);
    }

    [Theory]
    [InlineData(long.MaxValue)]
    [InlineData(long.MaxValue - 999)] // with the 1,000 in use: just past long.MaxValue
    public async Task ChargeUsage_UsageThatWouldWrapWhatIsInUse_KeepsTheBudgetSpentAcrossAReactivation(long tokens)
    {
        var (_, bot) = await BotAsync("""{"llmTokensPerHour":1000}""");
        Assert.True((await bot.CheckAsync(CheckRequests.Llm("gpt-x", 1000))).Allowed);
        Assert.True((await bot.ChargeUsageAsync(Used(tokens))).Allowed);

        // A clean deactivation stores what is in use, the next activation reads it: a wrapped count would read as none.
        await fixture.DeactivateAllAsync();
        ClusterFixture.Time.Advance(TimeSpan.FromHours(2));

        Assert.Equal(ReasonCodes.QuotaExceeded, (await bot.CheckAsync(CheckRequests.Llm("gpt-x", 1))).Reason);
    }

    [Theory]
    [InlineData(null, ReasonCodes.UsageUnreported)]
    [InlineData(-1L, ReasonCodes.InvalidRequest)]
    public async Task ChargeUsage_MissingOrNegative_IsRefusedAndSpendsTheWholeBudget(long? tokens, string reason)
    {
        var (tenant, bot) = await BotAsync("""{"llmTokensPerHour":1000}""");

        var charged = await bot.ChargeUsageAsync(Used(tokens));

        Assert.Equal(reason, charged.Reason);
        Assert.Equal(ReasonCodes.QuotaExceeded, (await bot.CheckAsync(CheckRequests.Llm("gpt-x", 1))).Reason);
        var events = await fixture.AuditLog.WaitForEventsAsync(tenant, e => e.OfType<DecisionEvent>().Any(d => d.Reason == reason), TimeSpan.FromSeconds(15));
        Assert.Contains(events.OfType<DecisionEvent>(), d => d.Capability == Capabilities.Llm && d.Reason == reason);
    }

    [Fact]
    public async Task ChargeUsage_WithoutAnLlmLimit_ChargesNothingAndAMissingUsageIsNoDenial()
    {
        var (_, bot) = await BotAsync(null);

        Assert.True((await bot.ChargeUsageAsync(Used(null))).Allowed);
        Assert.True((await bot.ChargeUsageAsync(Used(5000))).Allowed);
        Assert.Equal(ReasonCodes.InvalidRequest, (await bot.ChargeUsageAsync(Used(-1))).Reason);
    }

    [Fact]
    public async Task ChargeUsage_NotAnLlmUsage_IsInvalidRequestAndChargesNothing()
    {
        var (_, bot) = await BotAsync("""{"llmTokensPerHour":10,"fileBytesWrittenPerHour":10}""");

        Assert.Equal(ReasonCodes.InvalidRequest, (await bot.ChargeUsageAsync(new CheckRequest(Capabilities.FileSystemWrite, "/workspace/a", 10))).Reason);

        Assert.True((await bot.CheckAsync(CheckRequests.Llm("gpt-x", 10))).Allowed);
        Assert.True((await bot.CheckAsync(CheckRequests.WriteFile("/workspace/a", 10))).Allowed);
    }

    [Fact]
    public async Task ChargeUsage_SurvivesDeactivation()
    {
        var (_, bot) = await BotAsync("""{"llmTokensPerHour":1000}""");
        Assert.True((await bot.ChargeUsageAsync(Used(900))).Allowed);

        await fixture.DeactivateAllAsync();

        Assert.Equal(ReasonCodes.QuotaExceeded, (await bot.CheckAsync(CheckRequests.Llm("gpt-x", 101))).Reason);
        Assert.True((await bot.CheckAsync(CheckRequests.Llm("gpt-x", 100))).Allowed);
    }
}

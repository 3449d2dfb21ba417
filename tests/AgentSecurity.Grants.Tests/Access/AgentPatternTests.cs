using AgentSecurity.Grants.Access;

namespace AgentSecurity.Grants.Tests.Access;

public sealed class AgentPatternTests
{
    [Theory]
    [InlineData("bot", "bot", true)]
    [InlineData("bot", "bot2", false)]
    [InlineData("bot", "bo", false)]
    [InlineData("*", "anything", true)]
    [InlineData("support-*", "support-1", true)]
    [InlineData("support-*", "support-", true)]
    [InlineData("support-*", "sales-1", false)]
    [InlineData("*-eu", "bot-eu", true)]
    [InlineData("*-eu", "bot-eu-2", false)]
    [InlineData("a*b*c", "axxbyyc", true)]
    [InlineData("a*b*c", "axxbyy", false)]
    [InlineData("a*a*a", "aaaa", true)]
    [InlineData("a*aab", "aaaaab", true)]
    public void Matches_Pattern_AnswersAsAGlobWithStarsOnly(string pattern, string agent, bool matches)
    {
        Assert.True(AgentPattern.TryParse(pattern, out var parsed));

        Assert.Equal(matches, parsed.Matches(agent));
    }

    [Theory]
    [InlineData("")]
    [InlineData("bot/../other")]
    [InlineData("bot name")]
    [InlineData("bot?")]
    [InlineData("bot\u0000")]
    [InlineData(null)]
    public void TryParse_NotAnAgentIdPattern_IsRefused(string? pattern)
    {
        Assert.False(AgentPattern.TryParse(pattern, out _));
    }

    [Fact]
    public void TryParse_LongerThanTheMaximum_IsRefused()
    {
        Assert.False(AgentPattern.TryParse(new string('a', AgentPattern.MaxLength + 1), out _));
        Assert.True(AgentPattern.TryParse(new string('a', AgentPattern.MaxLength), out _));
    }

    [Fact]
    public void Matches_ManyStarsAgainstANearMiss_EndsInLinearTimesPatternSteps()
    {
        // Backtracking only to the last star: a pattern of stars and a long near miss is quadratic at worst, not exponential.
        Assert.True(AgentPattern.TryParse(string.Concat(Enumerable.Repeat("a*", 60)) + "b", out var pattern));

        Assert.False(pattern.Matches(new string('a', 128)));
    }
}

using AgentSecurity.Grants.Tools;

namespace AgentSecurity.Grants.Tests.Tools;

public sealed class ToolPatternTests
{
    [Theory]
    [InlineData("fs/read_file", "fs/read_file", true)]
    [InlineData("fs/read_file", "fs/read_files", false)]
    [InlineData("fs/read_*", "fs/read_text_file", true)]
    [InlineData("fs/read_*", "fs/read_", true)]         // * matches an empty run
    [InlineData("fs/*", "fs/anything", true)]
    [InlineData("fs/*", "github/anything", false)]
    [InlineData("*/read", "fs/read", true)]
    [InlineData("*/*", "a/b", true)]
    [InlineData("f*/x", "fs/x", true)]
    [InlineData("fs/**", "fs/x", true)]                 // a run of stars is one star
    [InlineData("fs/READ", "fs/read", false)]           // case-sensitive
    [InlineData("fs/*_file", "fs/read_file", true)]
    [InlineData("fs/*_file", "fs/read_file_v2", false)]
    public void Matches_ExactTool_FollowsTheContract(string pattern, string tool, bool matches) =>
        Assert.Equal(matches, ToolPattern.Parse(pattern).Matches(tool));

    [Theory]
    [InlineData("*")]
    [InlineData("**")]
    [InlineData("fs/*/x")]
    [InlineData("fs")]
    [InlineData("fs/a b")]
    [InlineData("fs/\u0000")]
    [InlineData(null)]
    public void TryParse_NotServerSlashTool_IsFalse(string? text) => Assert.False(ToolPattern.TryParse(text, out _));

    [Fact]
    public void Matches_StarNeverCrossesTheSlash()
    {
        // "fs*" must not reach into the tool segment by matching "fs/x" as one run.
        var pattern = ToolPattern.Parse("fs*/x");

        Assert.False(pattern.Matches("fsa/y"));
        Assert.True(pattern.Matches("fsa/x"));
        Assert.False(ToolPattern.Parse("*/x").Matches("a/b/x"));
    }

    [Theory]
    [InlineData("fs/*", "fs/read_*", true)]
    [InlineData("fs/*", "fs/read", true)]
    [InlineData("*/*", "fs/read_*", true)]
    [InlineData("fs/read_*", "fs/*", false)]
    [InlineData("fs/read_*", "fs/read_text", true)]
    [InlineData("fs/read", "fs/read_*", false)]
    [InlineData("fs/*", "*/read", false)]
    [InlineData("fs/**", "fs/*", true)]
    [InlineData("fs/*", "fs/**", true)]
    public void Covers_NarrowerPattern_IsSound(string wider, string narrower, bool covers) =>
        Assert.Equal(covers, ToolPattern.Parse(wider).Covers(ToolPattern.Parse(narrower)));
}

using AgentSecurity.Grants.Documents;
using AgentSecurity.Grants.Policy;

namespace AgentSecurity.Grants.Tests.Policy;

public sealed class PatternCoverageTests
{
    [Theory]
    [InlineData("/a/**", "/a/b", true)]
    [InlineData("/a/**", "/a/*", true)]
    [InlineData("/a/**", "/a/**", true)]
    [InlineData("/a/**", "/a/*/c/**", true)]
    [InlineData("/a/*", "/a/b", true)]
    [InlineData("/a/*", "/a/*", true)]
    [InlineData("/a/*", "/a/x*y", true)]
    [InlineData("/a/*", "/a/**", false)]
    [InlineData("/a/*", "/a/b/c", false)]
    [InlineData("/a/*", "/a/*/c", false)]
    [InlineData("/a/b", "/a/*", false)]
    [InlineData("/a/b", "/a/b", true)]
    [InlineData("/**", "/anything/**", true)]
    [InlineData("/a/**", "/ab/**", false)]
    [InlineData("/*.log", "/x.log", true)]
    [InlineData("/*.log", "/*.log", true)]
    [InlineData("/*.log", "/*", false)]
    [InlineData("/a/**/c", "/a/b/c", true)]
    [InlineData("/a/**/c", "/a/c", false)]
    [InlineData("/**/x", "/a/**/x", true)]
    [InlineData("/*/x", "/**/x", false)]
    [InlineData("/a*", "/a/b", false)]
    [InlineData("/a*", "/ab*c*", true)]
    [InlineData("/**a*/b", "/xa/b", true)]
    [InlineData("/**a*/b", "/**a/b", true)]
    [InlineData("/**a*/b", "/**/b", false)]
    [InlineData("/*a*a*a", "/*a*aa*a", true)]
    [InlineData("/*a*a*a", "/*a*a", false)]
    public void Covers_PathPatterns(string wider, string narrower, bool covers)
    {
        Assert.True(PathPattern.TryParse(wider, ResourceKind.Path, out var w));
        Assert.True(PathPattern.TryParse(narrower, ResourceKind.Path, out var n));

        Assert.Equal(covers, w.Covers(n));
    }

    [Theory]
    [InlineData("**", "a/*", true)]
    [InlineData("*", "**", false)]
    [InlineData("*", "a*", true)]
    [InlineData("*/b", "a/b", true)]
    [InlineData("*/b", "b", false)]
    [InlineData("a/**", "a/*/c", true)]
    [InlineData("**/b", "*/b", true)]
    public void Covers_KeyPatterns(string wider, string narrower, bool covers)
    {
        Assert.True(PathPattern.TryParse(wider, ResourceKind.Key, out var w));
        Assert.True(PathPattern.TryParse(narrower, ResourceKind.Key, out var n));

        Assert.Equal(covers, w.Covers(n));
    }

    public static TheoryData<string, string, bool> LongestPatterns => new()
    {
        { "/" + Repeat("*a", 127) + "*", "/" + new string('a', 254) + "*", true },
        { "/" + Repeat("*a", 127) + "*", "/" + new string('a', 126) + "*", false },
        { "/**" + Repeat("/*", 126), "/" + Repeat("a/", 127) + "a", true },
        { "/**" + Repeat("/*", 126), "/" + Repeat("a/", 125) + "**", false },
        { "/**" + Repeat("a*a/", 63) + "a", "/" + Repeat("aa/", 84) + "a", true },
        { "/**" + Repeat("a*a/", 63) + "a", "/" + Repeat("aa/", 84) + "*", false },
    };

    [Theory]
    [MemberData(nameof(LongestPatterns))]
    public void Covers_LongestPatterns_CostAWordPerStepPer64Characters(string wider, string narrower, bool covers)
    {
        Assert.True(wider.Length <= GrantTerms.MaxPatternLength && narrower.Length <= GrantTerms.MaxPatternLength);
        Assert.True(PathPattern.TryParse(wider, ResourceKind.Path, out var w), wider);
        Assert.True(PathPattern.TryParse(narrower, ResourceKind.Path, out var n), narrower);

        Assert.Equal(covers, w.Covers(n, out var work));
        Assert.Equal(covers, PatternOracles.CoversByTable(wider, narrower));
        // At most a word per 64 characters of the narrower pattern, for each step and each distinct character of the
        // wider: under 3,000 where the table this replaces has 66,000 cells.
        Assert.True(work <= ((2 * wider.Length) + 1) * ((narrower.Length / 64) + 1), $"{work} word operations");
        Assert.True(work < 3_000, $"{work} word operations");
    }

    private static string Repeat(string text, int count) => string.Concat(Enumerable.Repeat(text, count));

    [Theory]
    [InlineData("*.example.com:443", "api.example.com:443", true)]
    [InlineData("*.example.com:443", "*.example.com:443", true)]
    [InlineData("*.example.com:*", "*.example.com:443", true)]
    [InlineData("*.example.com:443", "*.example.com:*", false)]
    [InlineData("*.example.com:443", "example.com:443", false)]
    [InlineData("*.example.com:443", "a.b.example.com:443", false)]
    [InlineData("api.example.com:443", "*.example.com:443", false)]
    [InlineData("api.example.com:*", "API.example.com:8443", true)]
    [InlineData("api.example.com:443", "api.example.com:443", true)]
    public void Covers_HostPatterns(string wider, string narrower, bool covers)
    {
        Assert.True(HostPattern.TryParse(wider, out var w));
        Assert.True(HostPattern.TryParse(narrower, out var n));

        Assert.Equal(covers, w.Covers(n));
    }
}

using AgentSecurity.Grants.Documents;
using AgentSecurity.Grants.Policy;

namespace AgentSecurity.Grants.Tests.Policy;

public sealed class PathPatternTests
{
    [Theory]
    [InlineData("/a/*", "/a/b", true)]
    [InlineData("/a/*", "/a/b/c", false)]
    [InlineData("/a/**", "/a/b/c", true)]
    [InlineData("/a/*.txt", "/a/b.txt", true)]
    [InlineData("/a/*.txt", "/a/b.txt.exe", false)]
    [InlineData("/**/secret", "/x/y/secret", true)]
    [InlineData("/**/secret", "/secret", false)]
    [InlineData("/a/**/b", "/a/x/b", true)]
    [InlineData("/a/***", "/a/x/y", true)]
    [InlineData("/a*b/c", "/axyb/c", true)]
    [InlineData("/a*b/c", "/ax/yb/c", false)]
    [InlineData("/exact", "/exact", true)]
    [InlineData("/exact", "/exact2", false)]
    public void Matches_Wildcards_FollowTheContract(string pattern, string path, bool matches)
    {
        Assert.True(PathPattern.TryParse(pattern, ResourceKind.Path, out var compiled));

        Assert.Equal(matches, compiled.Matches(path));
    }

    [Theory]
    [InlineData("/a*b", "/ab", true)]
    [InlineData("/ab*ba", "/aba", false)] // prefix and suffix may not overlap
    [InlineData("/ab*ba", "/abba", true)]
    [InlineData("/a*", "/ab/c", false)]
    [InlineData("/a**", "/ab/c", true)]
    [InlineData("/a/*", "/a/b", true)]
    [InlineData("/**/a/b", "/x/a/b", true)]
    [InlineData("/**/a/b", "/a/b", false)]
    [InlineData("/**b/c*", "/a/b/cd", true)] // a block holding a slash after **
    [InlineData("/**b/c*", "/a/b/x/cd", false)]
    [InlineData("/**b/c*", "/b/b/c", true)]
    [InlineData("/*/b*/c", "/a/b/c", true)] // a block holding a slash after *: forced to the next slash
    [InlineData("/*/b*/c", "/a/x/b/c", false)]
    [InlineData("/*a*a*a", "/aaa", true)]
    [InlineData("/*a*a*a", "/aa/a", false)]
    [InlineData("/*a**a*a", "/a/xaya", true)]
    [InlineData("/**a*/b", "/xa/ya/b", true)]
    [InlineData("/**a*/b", "/xa/y/b", false)]
    public void Matches_TrickyShapes_FollowTheContract(string pattern, string path, bool matches)
    {
        Assert.True(PathPattern.TryParse(pattern, ResourceKind.Path, out var compiled));

        Assert.Equal(matches, compiled.Matches(path));
    }

    [Theory]
    [InlineData("*", "a", true)]
    [InlineData("*", "a/b", false)]
    [InlineData("**", "a/b", true)]
    [InlineData("*/b", "a/b", true)]
    [InlineData("*/b", "b", false)]
    [InlineData("**/b", "a/c/b", true)]
    [InlineData("**/b", "b", false)]
    [InlineData("*b*", "abc", true)]
    [InlineData("*b*", "a/b", false)]
    [InlineData("**b", "a/b", true)]
    [InlineData("*/**", "a/b/c", true)]
    [InlineData("*/*", "a/b/c", false)]
    public void Matches_KeysWithAnEmptyFirstBlock_FollowTheContract(string pattern, string key, bool matches)
    {
        Assert.True(PathPattern.TryParse(pattern, ResourceKind.Key, out var compiled));

        Assert.Equal(matches, compiled.Matches(key));
    }

    public static TheoryData<string, string, bool> WorstShapes => new()
    {
        // Many stars against a long run of the same character: exponential for a backtracking matcher.
        { "/" + Repeat("*a", 60) + "b", "/" + new string('a', 1023), false },
        { "/" + Repeat("*a", 127) + "*", "/" + new string('a', 1023), true },
        { "/" + Repeat("*a", 127) + "*", "/" + Repeat(new string('a', 100) + "/", 9) + new string('a', 113), false },
        // A block holding a slash after every star, against as many short segments as fit: every segment starts a
        // partial match that survives many steps.
        { "/**" + Repeat("/*", 126), "/" + Repeat("a/", 511) + "a", true },
        { "/**" + Repeat("/*", 126), "/" + Repeat("aaaaaaa/", 124) + "aaaaaaa", false },
        { "/**" + Repeat("a*a/", 63) + "a", "/" + Repeat("aa/", 340) + "a", true },
        { "/**" + Repeat("a*a/", 63) + "b", "/" + Repeat("aa/", 340) + "ab", false },
        // Double stars between single distinct characters: a character mask each, the last one missing.
        { "/" + string.Concat(Enumerable.Range(0, 84).Select(i => "**" + Letter(i))) + "**", "/" + Letters(83) + new string('x', 940), false },
        // Single stars between distinct characters in segments that hold all but the last.
        { "/**" + string.Concat(Enumerable.Range(0, 125).Select(i => Letter(i) + "*")) + Letter(126) + "*", "/" + string.Join('/', Enumerable.Repeat(Letters(125), 8)), false },
        // A literal of 250 distinct characters after a **: compared where it may start, not marked character by character.
        { "/**" + Letters(250) + "*", "/" + new string('a', 700) + Letters(250) + "x", true },
        { "/**" + Letters(250) + "*", "/" + new string('a', 700) + Letters(250) + "/x", false },
    };

    [Theory]
    [MemberData(nameof(WorstShapes))]
    public void Matches_WorstShapesAtTheBounds_CostAWordPerStepPer64Characters(string pattern, string path, bool matches)
    {
        Assert.True(pattern.Length <= GrantTerms.MaxPatternLength && path.Length <= ResourceNames.MaxLength);
        Assert.True(PathPattern.TryParse(pattern, ResourceKind.Path, out var compiled));

        Assert.Equal(matches, compiled.Matches(path, out var work));
        Assert.Equal(matches, PatternOracles.Regex(pattern).IsMatch(path));
        // At most a word per 64 characters for each step and each distinct character: under 9,000 word operations
        // for the largest pattern and resource, where stepping through the resource one character at a time for
        // each token of the pattern takes over 250,000.
        Assert.True(work <= ((2 * pattern.Length) + 1) * ((path.Length / 64) + 1), $"{work} word operations");
        Assert.True(work < 9_000, $"{work} word operations");
    }

    private static string Repeat(string text, int count) => string.Concat(Enumerable.Repeat(text, count));

    private static char Letter(int i) => (char)('\u00C0' + i);

    private static string Letters(int count) => string.Concat(Enumerable.Range(0, count).Select(Letter));
}

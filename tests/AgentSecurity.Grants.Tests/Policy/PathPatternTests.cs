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

    [Fact]
    public void Matches_ManyStarsAgainstLongMiss_StaysFast()
    {
        // The shape that makes backtracking matchers exponential; this one is linear in both lengths.
        Assert.True(PathPattern.TryParse("/" + string.Concat(Enumerable.Repeat("*a", 60)) + "b", ResourceKind.Path, out var pattern));
        var path = "/" + new string('a', 1000);

        var watch = System.Diagnostics.Stopwatch.StartNew();
        for (var i = 0; i < 10; i++)
        {
            Assert.False(pattern.Matches(path));
        }

        // Generous bound: a backtracking matcher would not finish at all.
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(5), $"took {watch.Elapsed}");
    }
}

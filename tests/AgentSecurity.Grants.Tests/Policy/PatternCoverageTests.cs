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
    public void Covers_PathPatterns(string wider, string narrower, bool covers)
    {
        Assert.True(PathPattern.TryParse(wider, ResourceKind.Path, out var w));
        Assert.True(PathPattern.TryParse(narrower, ResourceKind.Path, out var n));

        Assert.Equal(covers, w.Covers(n));
    }

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

using System.Text.Json;
using AgentSecurity.Abstractions;
using AgentSecurity.Grants;
using AgentSecurity.Mcp.Listings;
using AgentSecurity.Mcp.Tests.Support;

namespace AgentSecurity.Mcp.Tests.Listings;

/// <summary>What the gateway adds to a listing call before forwarding it (the real server's side is in <c>ListingTests</c>).</summary>
public sealed class ListingExclusionsTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("agentsec-excl-").FullName;

    private static Dictionary<string, JsonElement> Arguments(object value) =>
        JsonSerializer.SerializeToElement(value).EnumerateObject().ToDictionary(p => p.Name, p => p.Value.Clone());

    private Task<Result<IDictionary<string, JsonElement>>> AddAsync(object arguments, ListingFormat format, bool local, ScriptedToolGate? gate = null) =>
        ListingExclusions.AddAsync("fs/tool", Arguments(arguments), format, new FolderReads(new ListedFolder(_root, null), Capabilities.FileSystemRead, gate ?? new ScriptedToolGate()), local, CancellationToken.None);

    private static string[] Patterns(Result<IDictionary<string, JsonElement>> added) =>
        [.. added.Value[ListingExclusions.ExcludeArgument].EnumerateArray().Select(p => p.GetString()!)];

    [Theory]
    [InlineData(ListingFormat.Tree, true)]
    [InlineData(ListingFormat.PathLines, false)]
    public async Task AddAsync_ExcludePatternsNotAnArrayOfStrings_InvalidRequest(ListingFormat format, bool local)
    {
        var added = await AddAsync(new { path = _root, excludePatterns = new object[] { "a", 5 } }, format, local);

        Assert.Equal(ReasonCodes.InvalidRequest, added.Failure?.Code);
    }

    [Fact]
    public async Task AddAsync_TreeOfAnUpstreamElsewhereWithPatterns_InvalidRequest()
    {
        var added = await AddAsync(new { path = _root, excludePatterns = new[] { "node_modules" } }, ListingFormat.Tree, local: false);

        Assert.Equal(ReasonCodes.InvalidRequest, added.Failure?.Code);
        Assert.Contains("another machine", added.Failure!.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AddAsync_SearchOfAnUpstreamElsewhere_SkipsNamesWithALineBreakKeepsTheAgentsPatterns()
    {
        var added = await AddAsync(new { path = _root, pattern = "*.txt", excludePatterns = new[] { "node_modules" } }, ListingFormat.PathLines, local: false);

        Assert.Equal([ListingExclusions.LineBreakPattern, "node_modules"], Patterns(added));
        Assert.Equal("*.txt", added.Value["pattern"].GetString());
    }

    [Fact]
    public async Task AddAsync_LocalTree_SkipsTheEntriesOfEachShutFolderBelowOpenOnes()
    {
        Directory.CreateDirectory(Path.Combine(_root, "open", "shut-inner", "deeper"));
        Directory.CreateDirectory(Path.Combine(_root, "shut", "below"));
        Directory.CreateDirectory(Path.Combine(_root, "a{b,c}*"));
        Directory.CreateSymbolicLink(Path.Combine(_root, "link"), Path.Combine(_root, "shut"));
        var gate = new ScriptedToolGate { Unreadable = [Path.Combine(_root, "shut"), Path.Combine(_root, "open", "shut-inner"), Path.Combine(_root, "a{b,c}*")] };

        var added = await AddAsync(new { path = _root }, ListingFormat.Tree, local: true, gate);

        // Not the link (the server does not follow it), not what is below a shut folder (never walked).
        Assert.Equal(["a?b?c??/*", "open/shut-inner/*", "shut/*"], Patterns(added).Order(StringComparer.Ordinal));
        Assert.DoesNotContain(gate.Selected, c => c.Resource!.Contains("below", StringComparison.Ordinal) || c.Resource.Contains("deeper", StringComparison.Ordinal));
    }

    [Fact]
    public async Task AddAsync_LocalSearchWithTheAgentsPatterns_OursComeFirst()
    {
        // The server stops at the first pattern that matches: an entry of a shut folder must never meet the agent's.
        Directory.CreateDirectory(Path.Combine(_root, "shut"));
        var gate = new ScriptedToolGate { Unreadable = [Path.Combine(_root, "shut")] };

        var added = await AddAsync(new { path = _root, pattern = "*", excludePatterns = new[] { "shut/s*", "x" } }, ListingFormat.PathLines, local: true, gate);

        Assert.Equal(["shut/*", ListingExclusions.LineBreakPattern, "shut/s*", "x"], Patterns(added));
    }

    [Fact]
    public async Task AddAsync_ShutAndOpenFoldersAlikeButForGlobCharacters_InvalidRequest()
    {
        // The wildcard for the shut a{b} would also skip what is in the open a(b): refused, not shown as empty.
        Directory.CreateDirectory(Path.Combine(_root, "a{b}"));
        Directory.CreateDirectory(Path.Combine(_root, "a(b)"));
        var gate = new ScriptedToolGate { Unreadable = [Path.Combine(_root, "a{b}")] };

        var added = await AddAsync(new { path = _root }, ListingFormat.Tree, local: true, gate);

        Assert.Equal(ReasonCodes.InvalidRequest, added.Failure?.Code);
        Assert.Contains("a{b}", added.Failure!.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("a{b}", "a?b?")]
    [InlineData("a\\b{}", "a?b??")]
    [InlineData("!#x[1-2]*,|+@(y)", "??x?1-2???????y?")]
    [InlineData("plain name.txt/ü", "plain name.txt/ü")]
    public void Wildcard_GlobCharacters_EachBecomesOneAnyCharacter(string relative, string wildcard) =>
        Assert.Equal(wildcard, ListingExclusions.Wildcard(relative));

    [Fact]
    public async Task AddAsync_LocalTreeAllOpenNoPatterns_ArgumentsUnchanged()
    {
        Directory.CreateDirectory(Path.Combine(_root, "open"));

        var added = await AddAsync(new { path = _root }, ListingFormat.Tree, local: true);

        Assert.Equal(["path"], added.Value.Keys);
    }

    public void Dispose() => Directory.Delete(_root, recursive: true);
}

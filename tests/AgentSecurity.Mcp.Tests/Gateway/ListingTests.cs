using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;
using AgentSecurity.Abstractions;
using AgentSecurity.Mcp.Arguments;
using AgentSecurity.Mcp.Gateway;
using AgentSecurity.Mcp.Tests.Support;

namespace AgentSecurity.Mcp.Tests.Gateway;

/// <summary>
/// <c>directory_tree</c> and <c>search_files</c> of the real filesystem server: each answers with the names of
/// everything below the folder it is given, and the gateway shows of them what <c>list_directory</c> would show folder
/// by folder. The folder <c>private</c> is outside the "grant" (see <see cref="ScriptedToolGate.Unreadable"/>).
/// </summary>
public sealed class ListingTests : IDisposable
{
    private readonly string _root;

    public ListingTests()
    {
        _root = LocalPaths.Resolve(Directory.CreateTempSubdirectory("agentsec-mcp-list-").FullName)!;
        File.WriteAllText(Path.Combine(_root, "top.txt"), "t");
        Directory.CreateDirectory(Path.Combine(_root, "public", "sub"));
        File.WriteAllText(Path.Combine(_root, "public", "p.txt"), "p");
        File.WriteAllText(Path.Combine(_root, "public", "sub", "q.txt"), "q");
        Directory.CreateDirectory(Path.Combine(_root, "private", "deeper"));
        File.WriteAllText(Path.Combine(_root, "private", "secret-plans.txt"), "s");
        File.WriteAllText(Path.Combine(_root, "private", "deeper", "hidden.txt"), "h");
    }

    private string Private => Path.Combine(_root, "private");

    private ScriptedToolGate Gate(params string[] unreadable) => new()
    {
        Granted = ["fs/directory_tree", "fs/search_files"],
        FileScope = _root,
        Unreadable = unreadable,
    };

    private McpGatewayOptions Options() => new() { Upstreams = [NpmServers.Filesystem("fs", _root)] };

    [Fact]
    public async Task DirectoryTree_FolderTheAgentMayNotRead_ShownWithoutItsChildren()
    {
        var gate = Gate(Private);
        await using var harness = await GatewayHarness.StartAsync(Options(), gate);

        var result = await harness.CallAsync("fs/directory_tree", new { path = _root });

        Assert.NotEqual(true, result.IsError);
        var text = GatewayHarness.Text(result);
        Assert.DoesNotContain("secret-plans", text, StringComparison.Ordinal);
        Assert.DoesNotContain("deeper", text, StringComparison.Ordinal);
        var tree = JsonNode.Parse(text)!.AsArray();
        var privateEntry = Entry(tree, "private");
        Assert.Equal("directory", (string?)privateEntry["type"]);
        Assert.False(privateEntry.ContainsKey("children"));
        var sub = Entry(Entry(tree, "public")["children"]!.AsArray(), "sub");
        Assert.Equal("q.txt", (string?)Assert.Single(sub["children"]!.AsArray())!["name"]);
        Assert.Equal("t", File.ReadAllText(Path.Combine(_root, "top.txt")));
        // The structured content says the same.
        Assert.Equal(text, result.StructuredContent!.Value.GetProperty("content").GetString());
        // Asked level by level, once each (the walk before the call and the filter after it share the answers), nothing
        // below the folder that stayed shut.
        Assert.Equal(
            [Path.Combine(_root, "private"), Path.Combine(_root, "public"), Path.Combine(_root, "public", "sub")],
            gate.Selected.Select(c => c.Resource!).Order(StringComparer.Ordinal));
        Assert.All(gate.Selected, c => Assert.Equal(Capabilities.FileSystemRead, c.Capability));
    }

    [Fact]
    public async Task DirectoryTree_EveryFolderReadable_AnswerPassedAsTheUpstreamWroteIt()
    {
        await using var harness = await GatewayHarness.StartAsync(Options(), Gate());

        var result = await harness.CallAsync("fs/directory_tree", new { path = _root });

        var text = GatewayHarness.Text(result);
        Assert.Contains("secret-plans.txt", text, StringComparison.Ordinal);
        Assert.Contains("hidden.txt", text, StringComparison.Ordinal);
        Assert.Contains("\n  {\n    \"name\"", text, StringComparison.Ordinal); // the server's own two-space layout
    }

    [Fact]
    public async Task DirectoryTree_GrainAnswersWithAnotherLength_NoFolderOpened()
    {
        var gate = new ScriptedToolGate { Granted = ["fs/directory_tree"], SelectAnswer = checks => new bool[checks.Count + 1].Select(_ => true).ToArray() };
        await using var harness = await GatewayHarness.StartAsync(Options(), gate);

        var result = await harness.CallAsync("fs/directory_tree", new { path = _root });

        var tree = JsonNode.Parse(GatewayHarness.Text(result))!.AsArray();
        Assert.Equal(["private", "public", "top.txt"], tree.Select(e => (string)e!["name"]!).Order(StringComparer.Ordinal));
        Assert.All(tree, e => Assert.False(e!.AsObject().ContainsKey("children")));
    }

    [Fact]
    public async Task DirectoryTree_ThroughALink_EachFolderCheckedByBothPaths()
    {
        var link = Path.Combine(_root, "alias");
        Directory.CreateSymbolicLink(link, Path.Combine(_root, "public"));
        // Through the link, sub is in scope as written; by its real path it is not.
        var gate = new ScriptedToolGate { Granted = ["fs/directory_tree"], Unreadable = [Path.Combine(_root, "public", "sub")] };
        await using var harness = await GatewayHarness.StartAsync(Options(), gate);

        var result = await harness.CallAsync("fs/directory_tree", new { path = link });

        var text = GatewayHarness.Text(result);
        Assert.NotEqual(true, result.IsError);
        Assert.Contains("p.txt", text, StringComparison.Ordinal);
        Assert.DoesNotContain("q.txt", text, StringComparison.Ordinal);
        Assert.Equal([Path.Combine(link, "sub"), Path.Combine(_root, "public", "sub")], gate.Selected.Select(c => c.Resource!));
    }

    [Fact]
    public async Task SearchFiles_MatchesInAFolderTheAgentMayNotRead_NotShown()
    {
        var gate = Gate(Private);
        await using var harness = await GatewayHarness.StartAsync(Options(), gate);

        var result = await harness.CallAsync("fs/search_files", new { path = _root, pattern = "**/*.txt" });

        Assert.NotEqual(true, result.IsError);
        var text = GatewayHarness.Text(result);
        Assert.Equal(
            [Path.Combine(_root, "public", "p.txt"), Path.Combine(_root, "public", "sub", "q.txt"), Path.Combine(_root, "top.txt")],
            text.Split('\n').Order(StringComparer.Ordinal));
        Assert.Equal(text, result.StructuredContent!.Value.GetProperty("content").GetString());
    }

    [Fact]
    public async Task SearchFiles_OnlyMatchesTheAgentMayNotSee_NoMatchesFound()
    {
        await using var harness = await GatewayHarness.StartAsync(Options(), Gate(Private));

        var result = await harness.CallAsync("fs/search_files", new { path = _root, pattern = "**/secret-*" });

        Assert.Equal("No matches found", GatewayHarness.Text(result));
    }

    [Fact]
    public async Task SearchFiles_PrivateNameWithALineBreakSpellingAPublicPath_NotShown()
    {
        // private/"x\n" holds the folders of the root's own path, so a line of the server would read as two:
        // ROOT/private/x and ROOT/public/leak.txt, whose folder the agent may read. The search is told to skip it.
        var spelled = Path.Combine(Private, "x\n" + _root.TrimStart('/'), "public");
        Directory.CreateDirectory(spelled);
        File.WriteAllText(Path.Combine(spelled, "leak.txt"), "l");
        File.WriteAllText(Path.Combine(_root, "public", "leak.txt"), "l");
        File.WriteAllText(Path.Combine(_root, "public", "line\nbreak.txt"), "l");
        await using var harness = await GatewayHarness.StartAsync(Options(), Gate(Private));

        var result = await harness.CallAsync("fs/search_files", new { path = _root, pattern = "**/*.txt" });

        Assert.NotEqual(true, result.IsError);
        Assert.Equal(
            [Path.Combine(_root, "public", "leak.txt"), Path.Combine(_root, "public", "p.txt"), Path.Combine(_root, "public", "sub", "q.txt"), Path.Combine(_root, "top.txt")],
            GatewayHarness.Text(result).Split('\n').Order(StringComparer.Ordinal));
    }

    /// <summary>
    /// Two calls that differ only in a guess about what a shut folder holds must answer alike: the agent's patterns
    /// steer the server's walk, and what the walk meets inside the folder must not show in the answer.
    /// </summary>
    [Theory]
    [InlineData("directory_tree", "excludePatterns", "private/!(s*)", "private/!(t*)")]                            // an empty shut folder looked different
    [InlineData("directory_tree", "excludePatterns", "private/!(secret-plans.txt)", "private/!(secret-plans.doc)")]
    [InlineData("directory_tree", "excludePatterns", "private/s*", "private/t*")]                                  // an unwalkable folder failed the walk
    [InlineData("directory_tree", "excludePatterns", "private/m*", "private/n*")]                                  // a large folder overflowed the answer
    [InlineData("search_files", "pattern", "private/q*", "private/r*")]                                           // a name with a line break failed the answer
    [InlineData("search_files", "pattern", "**/secret-plans.txt", "**/secret-plans.doc")]
    public async Task Listing_GuessesAboutAShutFolder_AnswerAlike(string tool, string argument, string guess, string other)
    {
        // What a walk of private/ would meet: a folder the server cannot open (a name that is not UTF-8), a folder
        // whose names overflow a line, a name with a line break.
        Bash($"mkdir \"$1/salaries-$(printf '\\377')\" && mkdir \"$1/salaries-$(printf '\\377')/x\"", Private);
        var archive = Directory.CreateDirectory(Path.Combine(Private, "mailarchive")).FullName;
        foreach (var n in Enumerable.Range(0, 400))
        {
            File.WriteAllText(Path.Combine(archive, $"{n:D4}-{new string('m', 200)}"), "m");
        }

        File.WriteAllText(Path.Combine(Private, "q3-layoffs\nlist.txt"), "x");
        var options = Options();
        (options.MaxResultBytes, options.MaxLineBytes) = (16 * 1024, 64 * 1024);
        await using var harness = await GatewayHarness.StartAsync(options, Gate(Private));

        async Task<string> AskAsync(string value)
        {
            var result = tool == "directory_tree"
                ? await harness.CallAsync("fs/" + tool, new Dictionary<string, object> { ["path"] = _root, [argument] = new[] { value } })
                : await harness.CallAsync("fs/" + tool, new Dictionary<string, object> { ["path"] = _root, [argument] = value });
            return $"{result.IsError == true}: {GatewayHarness.Text(result)}";
        }

        var first = await AskAsync(guess);
        var second = await AskAsync(other);

        Assert.Equal(first, second);
        Assert.StartsWith("False: ", first, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("!#{a,b}[x]*(y)+@,|\\")]
    [InlineData("a\\b{}")] // a backslash before braces: brace expansion would strip an escape
    [InlineData("x\\{y}")]
    public async Task DirectoryTree_ShutFolderWithAGlobSyntaxName_ItsInsideNotWalked(string name)
    {
        // Were the name not made a pattern that matches it in the pattern that skips its entries, the server would
        // walk into the folder below it that it cannot open, and fail.
        var odd = Path.Combine(_root, name);
        Directory.CreateDirectory(odd);
        Bash($"mkdir \"$1/bad-$(printf '\\377')\" && mkdir \"$1/bad-$(printf '\\377')/x\"", odd);
        await using var harness = await GatewayHarness.StartAsync(Options(), Gate(odd));

        var result = await harness.CallAsync("fs/directory_tree", new { path = _root });

        Assert.NotEqual(true, result.IsError);
        var entry = Entry(JsonNode.Parse(GatewayHarness.Text(result))!.AsArray(), Path.GetFileName(odd));
        Assert.False(entry.ContainsKey("children"));
    }

    [Fact]
    public async Task DirectoryTree_MoreShutFoldersThanOneCallSkips_InvalidRequest()
    {
        foreach (var n in Enumerable.Range(0, 1001))
        {
            Directory.CreateDirectory(Path.Combine(Private, $"d{n}"));
        }

        var gate = Gate([.. Enumerable.Range(0, 1001).Select(n => Path.Combine(Private, $"d{n}"))]);
        await using var harness = await GatewayHarness.StartAsync(Options(), gate);

        var result = await harness.CallAsync("fs/directory_tree", new { path = Private });

        Assert.StartsWith("invalid_request: ", GatewayHarness.Text(result), StringComparison.Ordinal);
        Assert.Contains("more than 1,000 folders the grant does not read", GatewayHarness.Text(result), StringComparison.Ordinal);
    }

    private static void Bash(string script, string argument)
    {
        using var process = Process.Start(new ProcessStartInfo("/bin/bash") { ArgumentList = { "-c", script, "bash", argument }, RedirectStandardError = true })!;
        var error = process.StandardError.ReadToEnd();
        process.WaitForExit();
        Assert.True(process.ExitCode == 0, error);
    }

    private static JsonObject Entry(JsonArray entries, string name) =>
        entries.Single(e => (string?)e!["name"] == name)!.AsObject();

    // Names that are not UTF-8 cannot be named from .NET: removed by rm.
    public void Dispose() => Bash("rm -rf -- \"$1\"", _root);
}

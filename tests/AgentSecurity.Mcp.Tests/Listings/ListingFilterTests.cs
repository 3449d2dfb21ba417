using System.Text.Json;
using AgentSecurity.Abstractions;
using AgentSecurity.Grants;
using AgentSecurity.Mcp.Listings;
using AgentSecurity.Mcp.Tests.Support;
using ModelContextProtocol.Protocol;

namespace AgentSecurity.Mcp.Tests.Listings;

/// <summary>
/// The filter on answers no well-behaved server gives (the gateway's tests run it on the real server's): whatever cannot
/// be read as its format says is withheld whole, never passed on.
/// </summary>
public sealed class ListingFilterTests
{
    private static readonly ListedFolder Folder = new("/srv/acme", null);

    private static readonly ScriptedToolGate Gate = new() { Unreadable = ["/srv/acme/private"] };

    private static Task<Result<(CallToolResult Result, int Withheld)>> FilterAsync(CallToolResult result, ListingFormat format) =>
        ListingFilter.FilterAsync("fs/tool", result, format, new FolderReads(Folder, Capabilities.FileSystemRead, Gate), pathsAreLocal: false, CancellationToken.None);

    private static CallToolResult Answer(string text, bool isError = false) => new()
    {
        IsError = isError ? true : null,
        Content = [new TextContentBlock { Text = text }],
        StructuredContent = JsonSerializer.SerializeToElement(new { content = text }),
    };

    private static async Task<string> WithheldAsync(CallToolResult result, ListingFormat format)
    {
        var filtered = await FilterAsync(result, format);
        Assert.False(filtered.Succeeded, "the answer was passed on");
        Assert.Equal(ReasonCodes.ExecutionFailed, filtered.Failure!.Code);
        return filtered.Failure.Message;
    }

    [Fact]
    public async Task FilterAsync_ErrorNamingSomethingBelowTheFolder_Withheld()
    {
        var message = await WithheldAsync(Answer("EACCES: permission denied, scandir '/srv/acme/private/payroll'", isError: true), ListingFormat.Tree);

        Assert.DoesNotContain("payroll", message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task FilterAsync_ErrorNamingOnlyTheFolder_PassedOn()
    {
        var error = Answer("ENOENT: no such file or directory, scandir '/srv/acme'", isError: true);

        var filtered = await FilterAsync(error, ListingFormat.Tree);

        Assert.Same(error, filtered.Value.Result);
    }

    [Fact]
    public async Task FilterAsync_StructuredContentSaysMore_Withheld()
    {
        var answer = Answer("[]");
        answer.StructuredContent = JsonSerializer.SerializeToElement(new { content = "[]", extra = "/srv/acme/private/x" });

        await WithheldAsync(answer, ListingFormat.Tree);
    }

    [Fact]
    public async Task FilterAsync_TwoTextBlocks_Withheld()
    {
        var answer = Answer("[]");
        answer.Content = [new TextContentBlock { Text = "[]" }, new TextContentBlock { Text = "/srv/acme/private/x" }];
        answer.StructuredContent = null;

        await WithheldAsync(answer, ListingFormat.PathLines);
    }

    [Theory]
    [InlineData("not json")]
    [InlineData("""{"name":"private","type":"directory","children":[]}""")]                              // not an array
    [InlineData("""[{"name":"a","type":"file","target":"/srv/acme/private/x"}]""")]                     // a member it does not know
    [InlineData("""[{"name":"a","type":"file","children":[]}]""")]                                      // a file with children
    [InlineData("""[{"name":"a","type":"directory"}]""")]                                               // a folder without
    [InlineData("""[{"name":"private/x","type":"file"}]""")]                                            // a name with a slash
    [InlineData("""[{"name":"..","type":"directory","children":[]}]""")]
    [InlineData("""[{"name":"a","name":"b","type":"file"}]""")]                                         // a member twice
    [InlineData("""[{"name":"public","type":"directory","children":[{"name":"x","type":"link"}]}]""")]  // inside an open folder
    public async Task FilterAsync_TreeThatIsNotOneTheFormatDescribes_Withheld(string text)
    {
        await WithheldAsync(Answer(text), ListingFormat.Tree);
    }

    [Fact]
    public async Task FilterAsync_AnythingInsideAShutFolder_TakenOutUnread()
    {
        var filtered = await FilterAsync(Answer("""[{"name":"private","type":"directory","children":[{"name":"x","type":"link"}]}]"""), ListingFormat.Tree);

        Assert.Equal("[\n  {\n    \"name\": \"private\",\n    \"type\": \"directory\"\n  }\n]", Assert.IsType<TextContentBlock>(Assert.Single(filtered.Value.Result.Content)).Text);
        Assert.Equal(1, filtered.Value.Withheld);
    }

    [Fact]
    public async Task FilterAsync_PathLinesNotPlainlyBelowTheFolder_NotShown()
    {
        var lines = string.Join('\n', "/srv/acme/a.txt", "/etc/passwd", "/srv/acme/public/../private/x", "/srv/acmeX/y", "/srv/acme/private/z", "/srv/acme/public/b");

        var filtered = await FilterAsync(Answer(lines), ListingFormat.PathLines);

        Assert.Equal("/srv/acme/a.txt\n/srv/acme/public/b", Assert.IsType<TextContentBlock>(Assert.Single(filtered.Value.Result.Content)).Text);
        Assert.Equal(4, filtered.Value.Withheld);
    }
}

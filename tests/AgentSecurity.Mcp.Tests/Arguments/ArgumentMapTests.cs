using System.Text.Json;
using AgentSecurity.Abstractions;
using AgentSecurity.Grants;
using AgentSecurity.Mcp.Arguments;
using AgentSecurity.Mcp.Listings;

namespace AgentSecurity.Mcp.Tests.Arguments;

public sealed class ArgumentMapTests
{
    private static Dictionary<string, JsonElement> Args(string json) =>
        JsonSerializer.Deserialize<Dictionary<string, JsonElement>>(json)!;

    [Fact]
    public void Map_FilesystemRead_PathAsWrittenIsAReadCheck()
    {
        var mapped = ArgumentMap.Filesystem.Map("read_text_file", Args("""{"path": "/ws/../etc/passwd", "head": 3}""")).Value;

        var only = Assert.Single(mapped);
        Assert.Equal("/path", only.Argument);
        Assert.Equal(new CheckRequest(Capabilities.FileSystemRead, "/ws/../etc/passwd"), only.Check);
    }

    [Fact]
    public void Map_WriteFile_AmountIsUtf8BytesOfContent()
    {
        var mapped = ArgumentMap.Filesystem.Map("write_file", Args("""{"path": "/ws/a.txt", "content": "héllo"}""")).Value;

        Assert.Equal(new CheckRequest(Capabilities.FileSystemWrite, "/ws/a.txt", 6), Assert.Single(mapped).Check);
    }

    [Fact]
    public void Map_ReadMultipleFiles_EachElementChecked()
    {
        var mapped = ArgumentMap.Filesystem.Map("read_multiple_files", Args("""{"paths": ["/ws/a", "/etc/b"]}""")).Value;

        Assert.Equal(["/paths/0", "/paths/1"], mapped.Select(m => m.Argument));
        Assert.Equal(["/ws/a", "/etc/b"], mapped.Select(m => m.Check.Resource));
    }

    [Fact]
    public void Map_MoveFile_SourceAndDestinationAreWrites()
    {
        var mapped = ArgumentMap.Filesystem.Map("move_file", Args("""{"source": "/ws/a", "destination": "/ws/b"}""")).Value;

        Assert.Equal([("/source", "/ws/a"), ("/destination", "/ws/b")], mapped.Select(m => (m.Argument, m.Check.Resource!)));
        Assert.All(mapped, m => Assert.Equal(Capabilities.FileSystemWrite, m.Check.Capability));
    }

    [Theory]
    [InlineData("read_text_file", """{}""", "/path")]
    [InlineData("read_text_file", """{"path": 7}""", "/path")]
    [InlineData("read_text_file", """{"path": ["/ws/a"]}""", "/path")]
    [InlineData("write_file", """{"path": "/ws/a"}""", "/content")]
    [InlineData("read_multiple_files", """{"paths": "/ws/a"}""", "/paths")]
    [InlineData("read_multiple_files", """{"paths": ["/ws/a", null]}""", "/paths/1")]
    public void Map_MissingOrNotString_InvalidRequestNamingTheArgument(string tool, string json, string argument)
    {
        var result = ArgumentMap.Filesystem.Map(tool, Args(json));

        Assert.False(result.Succeeded);
        Assert.Equal(ReasonCodes.InvalidRequest, result.Failure!.Code);
        Assert.Contains(argument, result.Failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Map_ToolWithoutEntries_NoChecks() =>
        Assert.Empty(ArgumentMap.Filesystem.Map("list_allowed_directories", null).Value);

    [Fact]
    public void Map_NestedPointerWithEscapes_Resolved()
    {
        var map = new ArgumentMap([new ArgumentMapEntry("t", "/a~1b/0/c~0d", Capabilities.FileSystemRead)]);

        var mapped = map.Map("t", Args("""{"a/b": [{"c~d": "/ws/x"}]}""")).Value;

        Assert.Equal("/ws/x", Assert.Single(mapped).Check.Resource);
    }

    [Theory]
    [InlineData("path")]
    [InlineData("/")]
    [InlineData("/*")]
    [InlineData("/a/*/b")]
    public void Constructor_NotAPointerToAnArgument_Throws(string argument) =>
        Assert.Throws<ArgumentException>(() => new ArgumentMap([new ArgumentMapEntry("t", argument, Capabilities.FileSystemRead)]));

    [Theory]
    [InlineData(ListingFormat.Tree, "/paths/*")]   // a listing lists below one folder
    [InlineData((ListingFormat)7, "/path")]        // no such format
    public void Constructor_ListingNotOfOneFolder_Throws(ListingFormat listing, string argument) =>
        Assert.Throws<ArgumentException>(() => new ArgumentMap([new ArgumentMapEntry("t", argument, Capabilities.FileSystemRead) { Listing = listing }]));

    [Fact]
    public void ListingOf_FilesystemMap_TreeAndSearchListBelowTheirPath()
    {
        Assert.Equal((ListingFormat.Tree, "/path"), (ArgumentMap.Filesystem.ListingOf("directory_tree")!.Listing, ArgumentMap.Filesystem.ListingOf("directory_tree")!.Argument));
        Assert.Equal(ListingFormat.PathLines, ArgumentMap.Filesystem.ListingOf("search_files")!.Listing);
        Assert.Null(ArgumentMap.Filesystem.ListingOf("list_directory"));
        Assert.Null(ArgumentMap.Filesystem.ListingOf("no_such_tool"));
    }

    [Theory]
    [InlineData("node", new[] { "/x/node_modules/@modelcontextprotocol/server-filesystem/dist/index.js", "/ws" }, true)]
    [InlineData("/x/node_modules/.bin/mcp-server-filesystem", new[] { "/ws" }, true)]
    [InlineData("npx", new[] { "-y", "@modelcontextprotocol/server-filesystem", "/ws" }, true)]
    [InlineData("node", new[] { "/x/server-everything/dist/index.js", "stdio" }, false)]
    public void Detect_ReferenceFilesystemServer_FilesystemMap(string command, string[] arguments, bool filesystem) =>
        Assert.Equal(filesystem, ReferenceEquals(ArgumentMap.Filesystem, ArgumentMaps.Detect(command, arguments)));
}

using AgentSecurity.Mcp.Arguments;

namespace AgentSecurity.Mcp.Tests.Arguments;

public sealed class LocalPathsTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("agentsec-paths-").FullName;

    [Fact]
    public void Resolve_LinkInsideScopeToOutside_RealPathOutside()
    {
        var outside = Directory.CreateDirectory(Path.Combine(_root, "outside")).FullName;
        var scope = Directory.CreateDirectory(Path.Combine(_root, "scope")).FullName;
        Directory.CreateSymbolicLink(Path.Combine(scope, "link"), outside);

        Assert.Equal(Path.Combine(outside, "secret.txt"), LocalPaths.Resolve(Path.Combine(scope, "link", "secret.txt")));
    }

    [Fact]
    public void Resolve_RelativeLinkAndMissingRest_ResolvedPrefixPlusRestAsWritten()
    {
        var target = Directory.CreateDirectory(Path.Combine(_root, "target")).FullName;
        Directory.CreateSymbolicLink(Path.Combine(_root, "rel"), "target");

        Assert.Equal(Path.Combine(target, "new", "file.txt"), LocalPaths.Resolve(Path.Combine(_root, "rel", "new", "file.txt")));
    }

    [Theory]
    [InlineData("Keys", "\u212Aeys")]       // a name the server would find by its NFC form
    [InlineData("\u212Aeys", "Keys")]       // an ASCII name the server would find as a non-ASCII entry
    [InlineData("caf\u00e9", "cafe\u0301")]
    public void Resolve_MissingNameThatMayBeAUnicodeEquivalentOfALink_ResolvesToNothing(string link, string written)
    {
        var outside = Directory.CreateDirectory(Path.Combine(_root, "outside")).FullName;
        var scope = Directory.CreateDirectory(Path.Combine(_root, "scope")).FullName;
        Directory.CreateSymbolicLink(Path.Combine(scope, link), outside);

        Assert.Null(LocalPaths.Resolve(Path.Combine(scope, written, "secret.txt")));
    }

    [Fact]
    public void Resolve_MissingAsciiNameAmongAsciiNames_AppendedAsWritten()
    {
        var scope = Directory.CreateDirectory(Path.Combine(_root, "scope")).FullName;
        File.WriteAllText(Path.Combine(scope, "a.txt"), "a");

        Assert.Equal(Path.Combine(LocalPaths.Resolve(scope)!, "new.txt"), LocalPaths.Resolve(Path.Combine(scope, "new.txt")));
    }

    [Fact]
    public void Resolve_NoLinks_Unchanged()
    {
        // The temporary folder itself may sit behind a link (macOS /tmp): compare with its own real path.
        var real = LocalPaths.Resolve(_root)!;
        Assert.Equal(Path.Combine(real, "a", "b.txt"), LocalPaths.Resolve(Path.Combine(real, "a", "b.txt")));
    }

    [Fact]
    public void Resolve_LinkLoop_Null()
    {
        File.CreateSymbolicLink(Path.Combine(_root, "loop1"), Path.Combine(_root, "loop2"));
        File.CreateSymbolicLink(Path.Combine(_root, "loop2"), Path.Combine(_root, "loop1"));

        Assert.Null(LocalPaths.Resolve(Path.Combine(_root, "loop1", "x")));
    }

    [Theory]
    [InlineData("relative/path")]
    [InlineData("~/x")]
    [InlineData("")]
    public void Resolve_NotAbsolute_Null(string path) => Assert.Null(LocalPaths.Resolve(path));

    public void Dispose() => Directory.Delete(_root, recursive: true);
}

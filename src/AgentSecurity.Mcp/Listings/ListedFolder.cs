namespace AgentSecurity.Mcp.Listings;

/// <summary>
/// The folder a listing call was given, as written and, when a link makes it differ, as the real path the upstream
/// walks: a folder below it is read through both, so each is checked, as the call's own path was.
/// </summary>
/// <param name="Written">The path the call's argument names (checked by the call).</param>
/// <param name="Real">Its real path when known and different (a local upstream behind a link); else null.</param>
public sealed record ListedFolder(string Written, string? Real)
{
    /// <summary>The path the upstream's answers start with: the real one when known (a server resolves its root).</summary>
    public string Walked => Real ?? Written;

    /// <summary>The paths of <paramref name="relative"/> (<c>a/b</c>) below the folder, as written and as its real path.</summary>
    public IEnumerable<string> Below(string relative)
    {
        yield return Join(Written, relative);
        if (Real is not null)
        {
            yield return Join(Real, relative);
        }
    }

    /// <summary>Whether a text names anything below the folder (an error's message can carry a name from deep in a walk).</summary>
    public bool NamesBelow(string text) =>
        text.Contains(Prefix(Written), StringComparison.Ordinal) || (Real is not null && text.Contains(Prefix(Real), StringComparison.Ordinal));

    /// <summary><paramref name="folder"/> with one slash after it: <c>/srv/a/</c> for <c>/srv/a</c> or <c>/srv/a/</c>, <c>/</c> for the root.</summary>
    public static string Prefix(string folder) => folder.TrimEnd('/') + "/";

    private static string Join(string folder, string relative) => Prefix(folder) + relative;
}

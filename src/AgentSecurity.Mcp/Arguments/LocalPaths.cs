namespace AgentSecurity.Mcp.Arguments;

/// <summary>
/// Where a path really leads on this machine. A grant's scope is checked on the path as written; a symbolic link inside
/// the scope can still lead outside it, and a local file server follows links. So for an upstream on this machine the
/// gateway also checks the real path of the longest prefix that exists (what the server will touch), when it differs.
/// A race between the check and the server's access (TOCTOU) remains; the server's own roots bound it.
/// </summary>
/// <remarks>
/// The reference file server looks up a name that does not exist as written by its Unicode normalization (NFC) among
/// the entries of its directory, and follows what it finds: <c>K</c> written as the Kelvin sign (U+212A), or <c>é</c>
/// decomposed, would name a link this check never saw. This process normalizes no Unicode (it runs in invariant
/// globalization mode), so such a path is not resolved at all: a missing name that is not ASCII, or a missing name in
/// a directory that holds a name that is not ASCII, resolves to nothing, and the gateway refuses the call.
/// </remarks>
public static class LocalPaths
{
    /// <summary>Links followed at most, as Linux's <c>MAXSYMLINKS</c>: a loop resolves to nothing rather than forever.</summary>
    private const int MaxLinks = 40;

    /// <summary>
    /// The path with every link of its existing prefix resolved (the rest appended as written), or null when it is not
    /// an absolute path or cannot be resolved (a link loop, an unreadable link).
    /// </summary>
    public static string? Resolve(string? path)
    {
        if (string.IsNullOrEmpty(path) || path[0] != '/' || path.Contains('\0', StringComparison.Ordinal))
        {
            return null;
        }

        try
        {
            var pending = new Stack<string>(path.Split('/', StringSplitOptions.RemoveEmptyEntries).Reverse());
            var resolved = new List<string>();
            var links = 0;
            var existing = true;
            while (pending.TryPop(out var part))
            {
                if (part == ".")
                {
                    continue;
                }

                if (part == "..")
                {
                    if (resolved.Count > 0)
                    {
                        resolved.RemoveAt(resolved.Count - 1);
                    }

                    continue;
                }

                var candidate = "/" + string.Join('/', resolved.Append(part));
                if (existing && !File.Exists(candidate) && !Directory.Exists(candidate) && !IsLink(candidate) && MayHaveEquivalent(resolved, part))
                {
                    return null;
                }

                // Past the first missing component nothing exists to follow: the rest is appended as written.
                if (existing && new FileInfo(candidate) is { LinkTarget: { } target })
                {
                    if (++links > MaxLinks)
                    {
                        return null;
                    }

                    if (target.StartsWith('/'))
                    {
                        resolved.Clear();
                    }

                    foreach (var t in target.Split('/', StringSplitOptions.RemoveEmptyEntries).Reverse())
                    {
                        pending.Push(t);
                    }

                    continue;
                }

                existing = existing && (File.Exists(candidate) || Directory.Exists(candidate));
                resolved.Add(part);
            }

            var result = "/" + string.Join('/', resolved);
            return path.EndsWith('/') && resolved.Count > 0 ? result + "/" : result;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException)
        {
            return null;
        }
    }

    private static bool IsLink(string path) => new FileInfo(path).LinkTarget is not null;

    /// <summary>
    /// Whether a missing <paramref name="name"/> might be found by a Unicode-equivalent spelling in <paramref name="parent"/>:
    /// it is not ASCII itself, or the directory holds a name that is not (only those can normalize to another spelling).
    /// </summary>
    private static bool MayHaveEquivalent(List<string> parent, string name)
    {
        if (!System.Text.Ascii.IsValid(name))
        {
            return true;
        }

        var directory = "/" + string.Join('/', parent);
        return Directory.Exists(directory) && Directory.EnumerateFileSystemEntries(directory).Any(e => !System.Text.Ascii.IsValid(Path.GetFileName(e)));
    }
}

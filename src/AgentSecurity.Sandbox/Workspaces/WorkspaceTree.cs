namespace AgentSecurity.Sandbox.Workspaces;

/// <summary>
/// Walks a workspace that native agent code may be changing meanwhile: by directory descriptors and raw names, never
/// by path, never through a link. A name that is not UTF-8 is found like any other, depth is no limit of the walk's
/// own (paths longer than the system allows are never formed), and a directory swapped for a link is never entered.
/// </summary>
internal static class WorkspaceTree
{
    /// <summary>Deepest nesting measured; a deeper workspace cannot be measured, which its limits treat as over them.</summary>
    public const int MaxDepth = 64;

    /// <summary>Deepest nesting removed.</summary>
    private const int MaxRemovalDepth = 4096;

    /// <summary>
    /// Bytes of files and links and the entries under <paramref name="directory"/>, counting stopped one entry past
    /// <paramref name="maxEntries"/>; null when some of it cannot be read or it is nested deeper than <see cref="MaxDepth"/>.
    /// Entries that vanish during the walk are not counted.
    /// </summary>
    public static WorkspaceUsage? Measure(int directory, int maxEntries)
    {
        var (bytes, entries) = (0L, 0);
        return Visit(directory, 0) ? new WorkspaceUsage(bytes, entries) : null;

        bool Visit(int at, int depth)
        {
            if (Posix.NamesIn(at, out _) is not { } names)
            {
                return false;
            }

            foreach (var name in names)
            {
                if (entries > maxEntries)
                {
                    return true;
                }

                if (Posix.StatAt(at, name, out var error) is not { } stat)
                {
                    if (error == Posix.NoEntry)
                    {
                        continue;
                    }

                    return false;
                }

                entries++;
                if ((stat.Mode & Posix.TypeMask) != Posix.TypeDirectory)
                {
                    bytes += stat.Size;
                    continue;
                }

                if (depth + 1 > MaxDepth)
                {
                    return false;
                }

                var child = Posix.OpenSubdirectory(at, name, out error);
                if (child < 0)
                {
                    // Gone, or swapped for a link or a file since the stat: what is there now is counted next time.
                    if (error is Posix.NoEntry or Posix.NotDirectory or Posix.Loop)
                    {
                        continue;
                    }

                    return false;
                }

                try
                {
                    if (!Visit(child, depth + 1))
                    {
                        return false;
                    }
                }
                finally
                {
                    _ = Posix.Close(child);
                }
            }

            return true;
        }
    }

    /// <summary>
    /// Removes everything under <paramref name="directory"/> (which stays, empty): links as links, subdirectories
    /// through their own descriptors. Throws when something cannot be removed.
    /// </summary>
    /// <exception cref="IOException">Part of it could not be removed; what was removed stays removed.</exception>
    public static void RemoveContents(int directory) => RemoveContents(directory, 0);

    private static void RemoveContents(int at, int depth)
    {
        var names = Posix.NamesIn(at, out var error) ?? throw new IOException($"a directory cannot be read: {Posix.Describe(error)}");
        foreach (var name in names)
        {
            if (Posix.StatAt(at, name, out error) is not { } stat)
            {
                if (error == Posix.NoEntry)
                {
                    continue;
                }

                throw new IOException($"an entry cannot be examined: {Posix.Describe(error)}");
            }

            var isDirectory = (stat.Mode & Posix.TypeMask) == Posix.TypeDirectory;
            if (isDirectory)
            {
                if (depth + 1 > MaxRemovalDepth)
                {
                    throw new IOException($"nested deeper than {MaxRemovalDepth} directories");
                }

                var child = Posix.OpenSubdirectory(at, name, out error);
                if (child < 0)
                {
                    throw new IOException($"a directory cannot be opened: {Posix.Describe(error)}");
                }

                try
                {
                    RemoveContents(child, depth + 1);
                }
                finally
                {
                    _ = Posix.Close(child);
                }
            }

            error = Posix.UnlinkAt(at, name, isDirectory);
            if (error is not 0 and not Posix.NoEntry)
            {
                throw new IOException($"an entry cannot be removed: {Posix.Describe(error)}");
            }
        }
    }
}

using System.Text;
using System.Text.Json;
using AgentSecurity.Grants;

namespace AgentSecurity.Mcp.Listings;

/// <summary>
/// Keeps the upstream from walking what the agent may not list, before the call is forwarded. Filtering the answer
/// (<see cref="ListingFilter"/>) hides the names, but the walk itself would still tell: whether it fails on something
/// inside a folder the grant does not read, and how long its answer grows, both steered by the agent's own
/// <c>excludePatterns</c> and <c>pattern</c>. So, for an upstream on this machine, the gateway walks the folders the
/// grant reads (level by level, the same questions as the filter, links not followed, as the server does not) and
/// adds to <c>excludePatterns</c> the entries of each folder it shuts: the server then lists that folder's name but
/// nothing in it. A search also skips names with a line break (one would read as two paths).
/// </summary>
public static class ListingExclusions
{
    /// <summary>The reference server's argument of glob patterns (relative to the folder) whose matches it skips.</summary>
    public const string ExcludeArgument = "excludePatterns";

    /// <summary>Skips any name with a line break in it, at any depth (minimatch, <c>dot: true</c>).</summary>
    public const string LineBreakPattern = "**/*\n*";

    /// <summary>Shut folders one call may skip; past it the call is refused (each pattern is tried on every entry).</summary>
    public const int MaxShutFolders = 1000;

    /// <summary>Folders the gateway walks for one call; past it the call is refused (ask for a narrower folder).</summary>
    public const int MaxWalkedFolders = 100_000;

    /// <summary>
    /// The call's arguments with the exclusions added, or why the call is refused (<c>invalid_request</c>): an
    /// <c>excludePatterns</c> that is not an array of strings, patterns for a tree on an upstream the gateway cannot
    /// walk (they would let the agent probe the folders it may not read), or a folder too large to walk.
    /// </summary>
    public static async Task<Result<IDictionary<string, JsonElement>>> AddAsync(
        string tool, IDictionary<string, JsonElement>? arguments, ListingFormat format, FolderReads reads, bool local, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(reads);
        var patterns = new List<string>();
        if (arguments is not null && arguments.TryGetValue(ExcludeArgument, out var given) && given.ValueKind != JsonValueKind.Null)
        {
            if (given.ValueKind != JsonValueKind.Array || given.EnumerateArray().Any(p => p.ValueKind != JsonValueKind.String))
            {
                return Refuse($"the argument /{ExcludeArgument} of {tool} must be an array of strings");
            }

            patterns.AddRange(given.EnumerateArray().Select(p => p.GetString()!));
        }

        if (format == ListingFormat.PathLines)
        {
            patterns.Add(LineBreakPattern);
        }

        if (!local)
        {
            if (format == ListingFormat.Tree && patterns.Count > 0)
            {
                return Refuse($"/{ExcludeArgument} of {tool} is not passed to an upstream on another machine: the gateway cannot walk its folders to keep the patterns from probing the ones the grant does not read");
            }
        }
        else
        {
            var shut = await ShutFoldersAsync(reads, cancellationToken).ConfigureAwait(false);
            if (!shut.TryGetValue(out var relatives, out var failure))
            {
                return failure;
            }

            patterns.AddRange(relatives.Select(r => Escape(r) + "/*"));
        }

        var forwarded = arguments is null ? new Dictionary<string, JsonElement>(StringComparer.Ordinal) : new Dictionary<string, JsonElement>(arguments, StringComparer.Ordinal);
        if (patterns.Count > 0)
        {
            forwarded[ExcludeArgument] = JsonSerializer.SerializeToElement(patterns);
        }

        return Result<IDictionary<string, JsonElement>>.Ok(forwarded);
    }

    /// <summary>The folders below the listed one that are shut while every folder above them is open (relative paths).</summary>
    private static async Task<Result<List<string>>> ShutFoldersAsync(FolderReads reads, CancellationToken cancellationToken)
    {
        var folder = reads.Folder;
        var shut = new List<string>();
        var level = new List<string> { string.Empty };
        var walked = 0;
        while (level.Count > 0)
        {
            var below = level.SelectMany(relative => Subfolders(folder.Walked, relative)).ToList();
            walked += below.Count;
            if (walked > MaxWalkedFolders)
            {
                return Refuse($"{folder.Written} holds more than {MaxWalkedFolders:N0} folders; list a narrower one");
            }

            var readable = await reads.ReadableAsync(below, cancellationToken).ConfigureAwait(false);
            shut.AddRange(below.Where((_, i) => !readable[i]));
            if (shut.Count > MaxShutFolders)
            {
                return Refuse($"{folder.Written} holds more than {MaxShutFolders:N0} folders the grant does not read; list a narrower one");
            }

            level = [.. below.Where((_, i) => readable[i])];
        }

        return Result<List<string>>.Ok(shut);
    }

    /// <summary>The real folders (not links) in one folder, relative to the listed one; none when it cannot be read.</summary>
    private static IEnumerable<string> Subfolders(string root, string relative)
    {
        var path = relative.Length == 0 ? root : ListedFolder.Prefix(root) + relative;
        var options = new EnumerationOptions { AttributesToSkip = FileAttributes.ReparsePoint, IgnoreInaccessible = true, RecurseSubdirectories = false };
        try
        {
            return [.. new DirectoryInfo(path).EnumerateDirectories("*", options).Select(d => relative.Length == 0 ? d.Name : relative + "/" + d.Name)];
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return [];
        }
    }

    /// <summary>A path as a minimatch pattern that matches only itself (every character glob syntax gives a meaning escaped).</summary>
    public static string Escape(string relative)
    {
        var escaped = new StringBuilder(relative.Length + 8);
        foreach (var c in relative)
        {
            if ("\\*?[]{}()!+@#,|".Contains(c, StringComparison.Ordinal))
            {
                escaped.Append('\\');
            }

            escaped.Append(c);
        }

        return escaped.ToString();
    }

    private static Failure Refuse(string message) => new(ReasonCodes.InvalidRequest, message);
}

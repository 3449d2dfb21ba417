using System.Buffers;
using System.Text.Json;
using AgentSecurity.Grants;

namespace AgentSecurity.Mcp.Listings;

/// <summary>
/// Keeps the upstream from walking what the agent may not list, before the call is forwarded. Filtering the answer
/// (<see cref="ListingFilter"/>) hides the names, but the walk itself would still tell: whether it fails on something
/// inside a folder the grant does not read, and how long its answer grows, both steered by the agent's own
/// <c>excludePatterns</c> and <c>pattern</c>. So, for an upstream on this machine, the gateway walks the folders the
/// grant reads (level by level, the same questions as the filter, links not followed, as the server does not) and
/// puts first in <c>excludePatterns</c> the entries of each folder it shuts: the server then lists that folder's name
/// but nothing in it. A search also skips names with a line break (one would read as two paths).
/// </summary>
public static class ListingExclusions
{
    /// <summary>The reference server's argument of glob patterns (relative to the folder) whose matches it skips.</summary>
    public const string ExcludeArgument = "excludePatterns";

    /// <summary>Skips any name with a line break in it, at any depth (minimatch, <c>dot: true</c>).</summary>
    public const string LineBreakPattern = "**/*\n*";

    /// <summary>The characters minimatch gives a meaning (in some position or with <c>dot: true</c>).</summary>
    private static readonly SearchValues<char> Special = SearchValues.Create("\\*?[]{}()!+@#,|");

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
        var agents = new List<string>();
        if (arguments is not null && arguments.TryGetValue(ExcludeArgument, out var given) && given.ValueKind != JsonValueKind.Null)
        {
            if (given.ValueKind != JsonValueKind.Array || given.EnumerateArray().Any(p => p.ValueKind != JsonValueKind.String))
            {
                return Refuse($"the argument /{ExcludeArgument} of {tool} must be an array of strings");
            }

            agents.AddRange(given.EnumerateArray().Select(p => p.GetString()!));
        }

        var ours = new List<string>();
        if (local)
        {
            var walked = await WalkAsync(reads, cancellationToken).ConfigureAwait(false);
            if (!walked.TryGetValue(out var folders, out var failure))
            {
                return failure;
            }

            if (Collision(folders.Shut, folders.Open) is { } collision)
            {
                return Refuse($"the folders {collision.Shut} (which the grant does not read) and {collision.Open} differ only in characters glob patterns give a meaning, so the server cannot be told to skip one alone; list a narrower folder");
            }

            ours.AddRange(folders.Shut.Select(r => Wildcard(r) + "/*"));
        }
        else if (format == ListingFormat.Tree && agents.Count > 0)
        {
            return Refuse($"/{ExcludeArgument} of {tool} is not passed to an upstream on another machine: the gateway cannot walk its folders to keep the patterns from probing the ones the grant does not read");
        }

        if (format == ListingFormat.PathLines)
        {
            ours.Add(LineBreakPattern);
        }

        // Ours first: the server tries the patterns in order and stops at the first that matches, so an entry of a shut
        // folder never meets the agent's (whose cost, paid only when its guess misses, would time the guess).
        var patterns = ours.Concat(agents).ToList();
        var forwarded = arguments is null ? new Dictionary<string, JsonElement>(StringComparer.Ordinal) : new Dictionary<string, JsonElement>(arguments, StringComparer.Ordinal);
        if (patterns.Count > 0)
        {
            forwarded[ExcludeArgument] = JsonSerializer.SerializeToElement(patterns);
        }

        return Result<IDictionary<string, JsonElement>>.Ok(forwarded);
    }

    /// <summary>
    /// The folders below the listed one (relative paths) that are shut while every folder above them is open, and the
    /// open ones: the walk goes level by level through open folders only.
    /// </summary>
    private static async Task<Result<(List<string> Shut, List<string> Open)>> WalkAsync(FolderReads reads, CancellationToken cancellationToken)
    {
        var folder = reads.Folder;
        var shut = new List<string>();
        var open = new List<string>();
        var level = new List<string> { string.Empty };
        while (level.Count > 0)
        {
            var below = level.SelectMany(relative => Subfolders(folder.Walked, relative)).ToList();
            if (shut.Count + open.Count + below.Count > MaxWalkedFolders)
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
            open.AddRange(level);
        }

        return Result<(List<string>, List<string>)>.Ok((shut, open));
    }

    /// <summary>A shut folder whose pattern would also match an open one (the wildcards stand for other characters), or null.</summary>
    private static (string Shut, string Open)? Collision(List<string> shut, List<string> open)
    {
        var openByLength = open.ToLookup(o => o.Length);
        foreach (var s in shut.Where(s => s.AsSpan().IndexOfAny(Special) >= 0))
        {
            var wildcard = Wildcard(s);
            if (openByLength[s.Length].FirstOrDefault(o => Matches(wildcard, o)) is { } o)
            {
                return (s, o);
            }
        }

        return null;

        static bool Matches(string wildcard, string path)
        {
            for (var i = 0; i < wildcard.Length; i++)
            {
                if (wildcard[i] == '?' ? path[i] == '/' : wildcard[i] != path[i])
                {
                    return false;
                }
            }

            return true;
        }
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

    /// <summary>
    /// A path as a minimatch pattern: each character glob syntax gives a meaning becomes <c>?</c> (any one character).
    /// Not escaped with a backslash: once a pattern holds braces, minimatch's brace expansion strips the escapes and a
    /// backslash left behind escapes the wrong character (found by a review: <c>a\b{}</c>). A wildcard can match
    /// another folder too; <see cref="Collision"/> refuses that case rather than hide an open folder's entries.
    /// </summary>
    public static string Wildcard(string relative) => string.Create(relative.Length, relative, static (span, text) =>
    {
        for (var i = 0; i < text.Length; i++)
        {
            span[i] = Special.Contains(text[i]) ? '?' : text[i];
        }
    });

    private static Failure Refuse(string message) => new(ReasonCodes.InvalidRequest, message);
}

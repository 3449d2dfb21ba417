using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using AgentSecurity.Abstractions;
using AgentSecurity.Grants;
using AgentSecurity.Mcp.Gate;
using ModelContextProtocol.Protocol;

namespace AgentSecurity.Mcp.Listings;

/// <summary>
/// Shows of a listing answer what the agent could have listed itself, folder by folder: the call's check covered the
/// folder it was given, and a folder below it is opened only where the grant allows reading it (and every folder above
/// it). Asked of the grain without recording or metering (<see cref="IToolGate.SelectAllowedAsync"/>), one level of the
/// tree at a time, so a large folder the agent may not read costs no questions. Fails closed: an answer that cannot be
/// read as its format says is withheld whole, an error that names something below the folder too, and a folder the
/// grain could not answer for stays shut.
/// </summary>
public static class ListingFilter
{
    /// <summary>The text of a search that found nothing, as the reference server writes it.</summary>
    public const string NoMatches = "No matches found";

    private static readonly JsonDocumentOptions ReadOptions = new() { MaxDepth = 256, AllowDuplicateProperties = false };

    private static readonly JsonSerializerOptions WriteOptions = new() { WriteIndented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping, MaxDepth = 256 };

    /// <summary>
    /// The answer of <paramref name="tool"/> with what lies in folders the agent may not read taken out, and how many
    /// entries were taken out; or why it is withheld whole. When <paramref name="pathsAreLocal"/> (the upstream runs
    /// here), each path a <see cref="ListingFormat.PathLines"/> answer shows must exist here: a name with a line break
    /// in it cannot pass for two paths.
    /// </summary>
    public static async Task<Result<(CallToolResult Result, int Withheld)>> FilterAsync(
        string tool, CallToolResult result, ListingFormat format, FolderReads reads, bool pathsAreLocal, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(result);
        ArgumentNullException.ThrowIfNull(reads);
        var folder = reads.Folder;
        if (result.IsError == true)
        {
            // An error from deep in a walk (a folder that vanished, one the server cannot open) names where it happened.
            return result.Content.All(c => c is TextContentBlock text && !folder.NamesBelow(text.Text))
                ? Shown(result, 0)
                : Withheld(tool, "its error names something below the folder it was given");
        }

        if (TextOf(result) is not { } text)
        {
            return Withheld(tool, "it is not one text (with the same text as its structured content)");
        }

        var filtered = format switch
        {
            ListingFormat.Tree => await FilterTreeAsync(text, reads, cancellationToken).ConfigureAwait(false),
            ListingFormat.PathLines => await FilterPathLinesAsync(text, reads, pathsAreLocal, cancellationToken).ConfigureAwait(false),
            _ => throw new ArgumentOutOfRangeException(nameof(format), format, "not a listing"),
        };
        if (!filtered.TryGetValue(out var shown, out var failure))
        {
            return Withheld(tool, failure.Message);
        }

        // Passed as the upstream wrote it only when nothing changed: a shut folder that was empty changes the text too.
        return ReferenceEquals(shown.Text, text)
            ? Shown(result, 0)
            : Shown(new CallToolResult
            {
                Content = [new TextContentBlock { Text = shown.Text }],
                StructuredContent = result.StructuredContent is null ? null : new JsonObject { ["content"] = shown.Text }.Deserialize<JsonElement>(),
                Meta = result.Meta,
            }, shown.Withheld);
    }

    /// <summary>The answer's one text, when its structured content (if any) is <c>{"content": text}</c> and nothing else.</summary>
    private static string? TextOf(CallToolResult result)
    {
        if (result.Content is not [TextContentBlock { Text: var text }])
        {
            return null;
        }

        return result.StructuredContent switch
        {
            null => text,
            { ValueKind: JsonValueKind.Object } structured when structured.EnumerateObject().Count() == 1
                && structured.TryGetProperty("content", out var content) && content.ValueKind == JsonValueKind.String
                && content.GetString() == text => text,
            _ => null,
        };
    }

    private static async Task<Result<(string Text, int Withheld)>> FilterTreeAsync(string text, FolderReads reads, CancellationToken cancellationToken)
    {
        JsonArray root;
        try
        {
            if (JsonNode.Parse(text, documentOptions: ReadOptions) is not JsonArray array)
            {
                return Fail("it is not a JSON array of entries");
            }

            root = array;
        }
        catch (JsonException)
        {
            // The parser's message quotes the text where it stopped: not passed on.
            return Fail("it is not JSON");
        }

        // Level by level: the folders of the entries shown, each opened if its read is allowed.
        var withheld = 0;
        var shut = false;
        var level = new List<(string Relative, JsonArray Entries)> { (string.Empty, root) };
        while (level.Count > 0)
        {
            var folders = new List<(string Relative, JsonObject Entry, JsonArray Children)>();
            foreach (var (relative, entries) in level)
            {
                foreach (var node in entries)
                {
                    if (Entry(node) is not { } entry)
                    {
                        return Fail("an entry is not {\"name\", \"type\": \"file\"|\"directory\", \"children\" for a directory}");
                    }

                    if (entry.Children is not null)
                    {
                        folders.Add((relative.Length == 0 ? entry.Name : relative + "/" + entry.Name, (JsonObject)node!, entry.Children));
                    }
                }
            }

            var readable = await reads.ReadableAsync([.. folders.Select(f => f.Relative)], cancellationToken).ConfigureAwait(false);
            level = [];
            for (var i = 0; i < folders.Count; i++)
            {
                if (readable[i])
                {
                    level.Add((folders[i].Relative, folders[i].Children));
                }
                else
                {
                    withheld += Count(folders[i].Children);
                    folders[i].Entry.Remove("children");
                    shut = true;
                }
            }
        }

        return Text(shut ? root.ToJsonString(WriteOptions) : text, withheld);
    }

    private static async Task<Result<(string Text, int Withheld)>> FilterPathLinesAsync(
        string text, FolderReads reads, bool pathsAreLocal, CancellationToken cancellationToken)
    {
        if (text == NoMatches)
        {
            return Text(text, 0);
        }

        var lines = text.Split('\n');
        // Each path's folders below the given one, from the top: the path is shown when every one is readable.
        var prefix = ListedFolder.Prefix(reads.Folder.Walked);
        var chains = lines.Select(line => FoldersAbove(line, prefix)).ToList();
        var asked = chains.OfType<string[]>().SelectMany(c => c).Distinct(StringComparer.Ordinal).ToList();
        var readable = await reads.ReadableAsync(asked, cancellationToken).ConfigureAwait(false);
        var allowed = asked.Where((_, i) => readable[i]).ToHashSet(StringComparer.Ordinal);
        var shown = lines.Where((_, i) => chains[i] is { } chain && chain.All(allowed.Contains)).ToList();
        if (pathsAreLocal && !shown.All(Exists))
        {
            // The search was told to skip names with a line break (ListingExclusions); one that reads as two paths
            // anyway is refused. Only the lines shown are looked at: the others must not decide the answer.
            return Fail("a line is not a path on this machine (a name with a line break in it reads as two)");
        }

        return Text(shown.Count == lines.Length ? text : shown.Count == 0 ? NoMatches : string.Join('\n', shown), lines.Length - shown.Count);
    }

    /// <summary>
    /// The folders between <paramref name="prefix"/> and <paramref name="path"/> (<c>a</c>, <c>a/b</c> for
    /// <c>PREFIX/a/b/c</c>), or null for a path not plainly below it (never shown).
    /// </summary>
    private static string[]? FoldersAbove(string path, string prefix)
    {
        if (!path.StartsWith(prefix, StringComparison.Ordinal))
        {
            return null;
        }

        var parts = path[prefix.Length..].Split('/');
        if (parts.Any(p => p is "" or "." or ".."))
        {
            return null;
        }

        return [.. Enumerable.Range(1, parts.Length - 1).Select(n => string.Join('/', parts.Take(n)))];
    }

    private static TreeEntry? Entry(JsonNode? node)
    {
        if (node is not JsonObject entry || entry.Any(p => p.Key is not ("name" or "type" or "children"))
            || entry["name"] is not JsonValue nameValue || !nameValue.TryGetValue<string>(out var name)
            || name is "" or "." or ".." || name.Contains('/') || name.Contains('\0')
            || entry["type"] is not JsonValue typeValue || !typeValue.TryGetValue<string>(out var type))
        {
            return null;
        }

        return (type, entry["children"]) switch
        {
            ("file", null) when !entry.ContainsKey("children") => new TreeEntry(name, null),
            ("directory", JsonArray children) => new TreeEntry(name, children),
            _ => null,
        };
    }

    /// <summary>The entries of a withheld folder, all the way down (what the agent does not see).</summary>
    private static int Count(JsonArray entries) =>
        entries.Sum(e => 1 + (e is JsonObject { } entry && entry["children"] is JsonArray children ? Count(children) : 0));

    /// <summary>Whether something (a link too, even one that leads nowhere) has this absolute path here.</summary>
    private static bool Exists(string path)
    {
        try
        {
            return Path.IsPathFullyQualified(path) && (Path.Exists(path) || new FileInfo(path).LinkTarget is not null);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException)
        {
            return false;
        }
    }

    private static Result<(CallToolResult Result, int Withheld)> Shown(CallToolResult result, int withheld) => Result<(CallToolResult, int)>.Ok((result, withheld));

    private static Result<(string Text, int Withheld)> Text(string text, int withheld) => Result<(string, int)>.Ok((text, withheld));

    private static Failure Fail(string message) => new(ReasonCodes.ExecutionFailed, message);

    private static Failure Withheld(string tool, string why) =>
        new(ReasonCodes.ExecutionFailed, $"the answer of {tool} was withheld: {why}, and it lists what lies below the folder it was given, which the gateway shows only where the grant reads it");

    private sealed record TreeEntry(string Name, JsonArray? Children);
}

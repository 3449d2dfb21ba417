using System.Text;
using System.Text.Json;
using AgentSecurity.Abstractions;
using AgentSecurity.Grants;
using AgentSecurity.Mcp.Listings;

namespace AgentSecurity.Mcp.Arguments;

/// <summary>
/// The arguments of an upstream's tools that name resources, so a call is checked against the grant's scopes as well as
/// <c>tool:call</c>. A mapped argument that is missing or not a string refuses the call (<c>invalid_request</c>): passing
/// it through unchecked would let the upstream act on a resource nobody checked.
/// </summary>
public sealed class ArgumentMap
{
    /// <summary>
    /// The built-in map of the reference filesystem server (<c>@modelcontextprotocol/server-filesystem</c>, tools as of
    /// 2026.8.31). <c>move_file</c>'s source is a write, as the issue reads it: the file changes there.
    /// </summary>
    public static ArgumentMap Filesystem { get; } = new(
    [
        new("read_file", "/path", Capabilities.FileSystemRead),
        new("read_text_file", "/path", Capabilities.FileSystemRead),
        new("read_media_file", "/path", Capabilities.FileSystemRead),
        new("read_multiple_files", "/paths/*", Capabilities.FileSystemRead),
        new("write_file", "/path", Capabilities.FileSystemWrite) { AmountArgument = "/content" },
        new("edit_file", "/path", Capabilities.FileSystemWrite) { AmountArgument = "/edits" },
        new("create_directory", "/path", Capabilities.FileSystemWrite) { FixedAmount = 0 },
        new("list_directory", "/path", Capabilities.FileSystemRead),
        new("list_directory_with_sizes", "/path", Capabilities.FileSystemRead),
        new("directory_tree", "/path", Capabilities.FileSystemRead) { Listing = ListingFormat.Tree },
        new("move_file", "/source", Capabilities.FileSystemWrite) { FixedAmount = 0 },
        new("move_file", "/destination", Capabilities.FileSystemWrite) { FixedAmount = 0 },
        new("search_files", "/path", Capabilities.FileSystemRead) { Listing = ListingFormat.PathLines },
        new("get_file_info", "/path", Capabilities.FileSystemRead),
    ]);

    public static ArgumentMap Empty { get; } = new([]);

    private readonly Dictionary<string, ArgumentMapEntry[]> _byTool;

    public ArgumentMap(IEnumerable<ArgumentMapEntry> entries)
    {
        ArgumentNullException.ThrowIfNull(entries);
        Entries = [.. entries];
        foreach (var entry in Entries)
        {
            if (Problem(entry) is { } problem)
            {
                throw new ArgumentException(problem, nameof(entries));
            }
        }

        _byTool = Entries.GroupBy(e => e.Tool, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.ToArray(), StringComparer.Ordinal);
    }

    public IReadOnlyList<ArgumentMapEntry> Entries { get; }

    /// <summary>What is wrong with an entry, or null.</summary>
    public static string? Problem(ArgumentMapEntry entry)
    {
        ArgumentNullException.ThrowIfNull(entry);
        if (string.IsNullOrEmpty(entry.Tool) || string.IsNullOrEmpty(entry.Capability))
        {
            return "an argument map entry names a tool and a capability";
        }

        var tokens = JsonPointer.Parse(entry.Argument);
        if (tokens is null || tokens.AsSpan(0, tokens.Length - 1).Contains("*") || (tokens is ["*"]))
        {
            return $"\"{entry.Argument}\" of {entry.Tool} is not a JSON pointer to an argument (/path, or /paths/* for each element)";
        }

        if (entry.Listing != ListingFormat.None && (tokens[^1] == "*" || !Enum.IsDefined(entry.Listing)))
        {
            return $"\"{entry.Argument}\" of {entry.Tool} lists below one folder: it points to one argument";
        }

        return entry.AmountArgument is { } amount && (JsonPointer.Parse(amount) is not { } a || a.Contains("*"))
            ? $"\"{amount}\" of {entry.Tool} is not a JSON pointer to one argument"
            : null;
    }

    /// <summary>The entry whose argument is a folder the tool's answer lists below (<see cref="ArgumentMapEntry.Listing"/>), or null.</summary>
    public ArgumentMapEntry? ListingOf(string tool) =>
        _byTool.TryGetValue(tool, out var entries) ? entries.FirstOrDefault(e => e.Listing != ListingFormat.None) : null;

    /// <summary>
    /// The checks the arguments of a call of <paramref name="tool"/> map to, or the reason they cannot be read
    /// (<see cref="ReasonCodes.InvalidRequest"/>). Paths are passed as written: the kernel refuses relative ones, <c>..</c> and <c>~</c>.
    /// </summary>
    public Result<IReadOnlyList<MappedResource>> Map(string tool, IDictionary<string, JsonElement>? arguments)
    {
        if (!_byTool.TryGetValue(tool, out var entries))
        {
            return Result<IReadOnlyList<MappedResource>>.Ok([]);
        }

        var resources = new List<MappedResource>();
        foreach (var entry in entries)
        {
            var amount = entry.FixedAmount;
            if (entry.AmountArgument is { } amountArgument)
            {
                // A string counts its UTF-8 bytes; anything else (edit_file's list of edits) the bytes of its JSON.
                switch (JsonPointer.Resolve(arguments, JsonPointer.Parse(amountArgument)!))
                {
                    case { ValueKind: JsonValueKind.String } text:
                        amount = Encoding.UTF8.GetByteCount(text.GetString()!);
                        break;
                    case { ValueKind: JsonValueKind.Array or JsonValueKind.Object } value:
                        amount = Encoding.UTF8.GetByteCount(value.GetRawText());
                        break;
                    default:
                        return Refuse(tool, amountArgument, "a string, an array or an object");
                }
            }

            var tokens = JsonPointer.Parse(entry.Argument)!;
            if (tokens[^1] != "*")
            {
                if (JsonPointer.Resolve(arguments, tokens) is not { ValueKind: JsonValueKind.String } value)
                {
                    return Refuse(tool, entry.Argument, "a string");
                }

                resources.Add(new MappedResource(entry.Argument, new CheckRequest(entry.Capability, value.GetString(), amount)));
                continue;
            }

            var arrayPointer = entry.Argument[..^2];
            if (JsonPointer.Resolve(arguments, tokens[..^1]) is not { ValueKind: JsonValueKind.Array } array)
            {
                return Refuse(tool, arrayPointer, "an array of strings");
            }

            var index = 0;
            foreach (var element in array.EnumerateArray())
            {
                if (element.ValueKind != JsonValueKind.String)
                {
                    return Refuse(tool, $"{arrayPointer}/{index}", "a string");
                }

                resources.Add(new MappedResource($"{arrayPointer}/{index}", new CheckRequest(entry.Capability, element.GetString(), amount)));
                index++;
            }
        }

        return Result<IReadOnlyList<MappedResource>>.Ok(resources);
    }

    private static Result<IReadOnlyList<MappedResource>> Refuse(string tool, string pointer, string expected) =>
        Result<IReadOnlyList<MappedResource>>.Fail(ReasonCodes.InvalidRequest, $"the argument {pointer} of {tool} must be {expected}: it names what the call acts on, and the gateway checks it");
}

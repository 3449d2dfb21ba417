namespace AgentSecurity.Grants.Tools;

/// <summary>
/// How tools are named (<c>contracts/signed-documents.md</c>, grant v2): <c>server/tool</c>, each a name
/// <c>[A-Za-z0-9][A-Za-z0-9._-]{0,63}</c>, case-sensitive. A name outside this form cannot be granted, pinned or
/// called: a gateway hides an upstream tool whose name breaks it rather than repairing the name.
/// </summary>
public static class ToolNames
{
    public const int MaxNameLength = 64;

    /// <summary>Whether <paramref name="name"/> is one server or tool name.</summary>
    public static bool IsName(ReadOnlySpan<char> name)
    {
        if (name.Length is 0 or > MaxNameLength || !char.IsAsciiLetterOrDigit(name[0]))
        {
            return false;
        }

        foreach (var c in name[1..])
        {
            if (!char.IsAsciiLetterOrDigit(c) && c is not ('.' or '_' or '-'))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Whether <paramref name="tool"/> is an exact tool <c>server/tool</c>: what a check and a pin name.</summary>
    public static bool IsTool(string? tool)
    {
        if (tool is null)
        {
            return false;
        }

        var slash = tool.IndexOf('/', StringComparison.Ordinal);
        return slash > 0 && IsName(tool.AsSpan(0, slash)) && IsName(tool.AsSpan(slash + 1));
    }

    /// <summary>Splits an exact tool into its server and tool names.</summary>
    public static bool TrySplit(string? tool, out string server, out string name)
    {
        server = name = string.Empty;
        if (!IsTool(tool))
        {
            return false;
        }

        var slash = tool!.IndexOf('/', StringComparison.Ordinal);
        server = tool[..slash];
        name = tool[(slash + 1)..];
        return true;
    }

    /// <summary>The tool as a gateway exposes it: <c>server/tool</c>.</summary>
    public static string Of(string server, string tool) => $"{server}/{tool}";
}

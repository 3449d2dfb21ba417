using AgentSecurity.Grants.Policy;

namespace AgentSecurity.Grants.Tools;

/// <summary>
/// A tool pattern of grant v2: <c>server/tool</c> in which <c>*</c> matches any run of characters (none included)
/// within its segment, never <c>/</c>. A run of stars is one star: nothing in a tool pattern crosses the slash.
/// Matching and coverage are <see cref="PathPattern"/>'s, whose <c>*</c> is exactly this one.
/// </summary>
public sealed class ToolPattern
{
    private readonly PathPattern _pattern;

    private ToolPattern(string text, PathPattern pattern)
    {
        Text = text;
        _pattern = pattern;
    }

    /// <summary>The pattern as written in the grant.</summary>
    public string Text { get; }

    public bool IsExact => !Text.Contains('*', StringComparison.Ordinal);

    /// <summary>
    /// Accepts exactly one <c>/</c> between two segments, each a tool name once every <c>*</c> is read as a letter (so a
    /// segment may be or start with <c>*</c>, and is at most 64 characters).
    /// </summary>
    public static bool TryParse(string? text, out ToolPattern pattern)
    {
        pattern = null!;
        if (text is null || !ToolNames.IsTool(text.Replace('*', 'a')))
        {
            return false;
        }

        var collapsed = text;
        while (collapsed.Contains("**", StringComparison.Ordinal))
        {
            collapsed = collapsed.Replace("**", "*", StringComparison.Ordinal);
        }

        if (!PathPattern.TryParse(collapsed, ResourceKind.Key, out var compiled))
        {
            return false;
        }

        pattern = new ToolPattern(text, compiled);
        return true;
    }

    public static ToolPattern Parse(string text) =>
        TryParse(text, out var pattern) ? pattern : throw new ArgumentException($"\"{text}\" is not a tool pattern server/tool", nameof(text));

    /// <summary>Whether an exact tool (already known to be one) matches.</summary>
    public bool Matches(string tool) => _pattern.Matches(tool);

    /// <summary>Whether every tool <paramref name="narrower"/> matches is matched by this one, decided soundly (when in doubt, no).</summary>
    public bool Covers(ToolPattern narrower) => _pattern.Covers(narrower._pattern);

    public override string ToString() => Text;
}

using ModelContextProtocol.Protocol;

namespace AgentSecurity.Mcp.Gateway;

/// <summary>
/// A refused call as MCP says tool errors are reported: a result with <c>isError: true</c> whose text starts with the
/// reason code (<c>out_of_scope: …</c>), so an agent and a person read the same stable code the CLI prints.
/// </summary>
public static class ToolRefusal
{
    public static CallToolResult Create(string reason, string message) => new()
    {
        IsError = true,
        Content = [new TextContentBlock { Text = $"{reason}: {message}" }],
    };

    /// <summary>The reason code a refusal's text starts with, or null for a result that is no refusal of the gateway.</summary>
    public static string? ReasonOf(CallToolResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        return result is { IsError: true, Content: [TextContentBlock { Text: var text }] } && text.IndexOf(':', StringComparison.Ordinal) is > 0 and var colon
            ? text[..colon]
            : null;
    }
}

using System.Text.Json;

namespace AgentSecurity.Mcp.Arguments;

/// <summary>RFC 6901 JSON pointers over a tool call's arguments (an object given as its members).</summary>
internal static class JsonPointer
{
    /// <summary>The pointer's reference tokens, unescaped (<c>~1</c> is <c>/</c>, <c>~0</c> is <c>~</c>); null when it is not a pointer to a member.</summary>
    public static string[]? Parse(string pointer)
    {
        if (pointer.Length < 2 || pointer[0] != '/')
        {
            return null;
        }

        return [.. pointer[1..].Split('/').Select(t => t.Replace("~1", "/", StringComparison.Ordinal).Replace("~0", "~", StringComparison.Ordinal))];
    }

    /// <summary>The value at the tokens, or null when any step is missing.</summary>
    public static JsonElement? Resolve(IDictionary<string, JsonElement>? arguments, IReadOnlyList<string> tokens)
    {
        if (arguments is null || tokens.Count == 0 || !arguments.TryGetValue(tokens[0], out var current))
        {
            return null;
        }

        for (var i = 1; i < tokens.Count; i++)
        {
            var token = tokens[i];
            if (current.ValueKind == JsonValueKind.Object && current.TryGetProperty(token, out var member))
            {
                current = member;
            }
            else if (current.ValueKind == JsonValueKind.Array && IsIndex(token, out var index) && index < current.GetArrayLength())
            {
                current = current[index];
            }
            else
            {
                return null;
            }
        }

        return current;
    }

    private static bool IsIndex(string token, out int index)
    {
        index = -1;
        // RFC 6901: an array index is 0 or digits without a leading zero.
        return token.Length > 0 && (token == "0" || token[0] != '0') && token.All(char.IsAsciiDigit) && int.TryParse(token, out index);
    }
}

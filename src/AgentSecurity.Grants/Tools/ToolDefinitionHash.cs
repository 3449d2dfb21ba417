using System.Security.Cryptography;
using AgentSecurity.Grants.Json;

namespace AgentSecurity.Grants.Tools;

/// <summary>
/// The hash a pin names: <c>sha256:</c> + hex of SHA-256 over the JCS of a tool's MCP definition reduced to
/// <c>name</c>, <c>description</c> and <c>inputSchema</c> (a member that is absent stays absent; a <c>null</c> is present).
/// Computed from the JSON the server sent, never from a typed model of it: a model that fills in defaults or checks the
/// schema would hash something the server never said.
/// </summary>
public static class ToolDefinitionHash
{
    public const string Prefix = "sha256:";

    private static readonly string[] Hashed = ["name", "description", "inputSchema"];

    private static readonly System.Buffers.SearchValues<char> LowerHex = System.Buffers.SearchValues.Create("0123456789abcdef");

    /// <summary>The hash of a definition object as parsed by <see cref="StrictJsonParser"/>.</summary>
    public static string Compute(JObject definition)
    {
        ArgumentNullException.ThrowIfNull(definition);
        var reduced = new JObject(definition.Members.Where(m => Hashed.Contains(m.Key, StringComparer.Ordinal)).ToList());
        return Prefix + Convert.ToHexStringLower(SHA256.HashData(JsonCanonicalizer.Canonicalize(reduced)));
    }

    /// <summary>
    /// The hash of a definition given as UTF-8 JSON; a failure when it is not one strict JSON object (duplicate members,
    /// lone surrogates, depth over the parser's bound): such a definition satisfies no pin.
    /// </summary>
    public static Result<string> Compute(ReadOnlySpan<byte> utf8Definition)
    {
        var json = StrictJsonParser.Parse(utf8Definition);
        if (!json.Succeeded)
        {
            return json.Failure;
        }

        return json.Value is JObject definition
            ? Result<string>.Ok(Compute(definition))
            : Result<string>.Fail(ReasonCodes.MalformedJson, "a tool definition is a JSON object");
    }

    /// <summary>Whether <paramref name="text"/> is a hash in the form pins use: <c>sha256:</c> and 64 lowercase hex digits.</summary>
    public static bool IsHash(string? text) =>
        text is { Length: 71 } && text.StartsWith(Prefix, StringComparison.Ordinal)
        && text.AsSpan(Prefix.Length).IndexOfAnyExcept(LowerHex) < 0;
}

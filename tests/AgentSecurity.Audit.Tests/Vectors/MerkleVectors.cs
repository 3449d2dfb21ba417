using System.Text.Json;
using AgentSecurity.Testing;

namespace AgentSecurity.Audit.Tests.Vectors;

/// <summary>
/// transparency-dev/merkle's <c>testdata/</c>: one JSON probe per file, a happy path and its mutations per proof,
/// each with <c>wantErr</c>. Hashes are standard base64 (Go's encoding of <c>[]byte</c>); a null proof is an empty
/// one, as Go reads it. Case ids are the files' paths under <c>merkle/testdata</c> with <c>/</c> separators.
/// </summary>
internal static class MerkleVectors
{
    private static readonly string[] Root = ["merkle", "testdata"];

    public static IEnumerable<string> Files(string kind)
    {
        var folder = RepositoryPaths.Vector([.. Root, kind]);
        return Directory.EnumerateFiles(folder, "*.json", SearchOption.AllDirectories)
            .Select(path => Path.GetRelativePath(RepositoryPaths.Vector(Root), path).Replace('\\', '/'))
            .Order(StringComparer.Ordinal);
    }

    public static JsonDocument Load(string caseId) => ConformanceVectors.Json([.. Root, .. caseId.Split('/')]);

    public static byte[] Bytes(JsonElement probe, string name) => Convert.FromBase64String(probe.GetProperty(name).GetString()!);

    public static List<byte[]> Proof(JsonElement probe)
    {
        var proof = probe.GetProperty("proof");
        return proof.ValueKind == JsonValueKind.Null
            ? []
            : [.. proof.EnumerateArray().Select(node => Convert.FromBase64String(node.GetString()!))];
    }

    /// <summary>
    /// A Go uint64 as the API's long. The vectors' "index − 1" of index 0 wraps to 2^64 − 1; its unchecked
    /// conversion is −1, which is out of range for the verifier just as 2^64 − 1 is for Go's.
    /// </summary>
    public static long Number(JsonElement probe, string name) => unchecked((long)probe.GetProperty(name).GetUInt64());

    public static bool Valid(JsonElement probe) => !probe.GetProperty("wantErr").GetBoolean();
}

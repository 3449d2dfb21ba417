using AgentSecurity.Abstractions;
using AgentSecurity.Mcp.Gate;

namespace AgentSecurity.Mcp.Listings;

/// <summary>Which folders below a listed one the grant reads: asked of the grain in batches, recording and metering nothing.</summary>
internal static class FolderReads
{
    /// <summary>Checks asked in one question to the grain (its limit).</summary>
    public const int Batch = 1024;

    /// <summary>
    /// For each folder (relative to the listed one: <c>a/b</c>), whether the grant reads it by every path it has (as
    /// written and as its real path). An answer that cannot be matched to the folders opens none of them.
    /// </summary>
    public static async Task<bool[]> ReadableAsync(
        List<string> relatives, ListedFolder folder, string capability, IToolGate gate, CancellationToken cancellationToken)
    {
        var readable = new bool[relatives.Count];
        var perFolder = folder.Real is null ? 1 : 2;
        var foldersPerBatch = Batch / perFolder;
        for (var start = 0; start < relatives.Count; start += foldersPerBatch)
        {
            var batch = relatives.Skip(start).Take(foldersPerBatch).ToList();
            var checks = batch.SelectMany(r => folder.Below(r).Select(path => new CheckRequest(capability, path))).ToList();
            var answer = await gate.SelectAllowedAsync(checks, cancellationToken).ConfigureAwait(false);
            if (answer.Length != checks.Count)
            {
                continue;
            }

            for (var i = 0; i < batch.Count; i++)
            {
                readable[start + i] = answer.AsSpan(i * perFolder, perFolder).IndexOf(false) < 0;
            }
        }

        return readable;
    }
}

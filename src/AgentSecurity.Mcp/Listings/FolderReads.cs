using AgentSecurity.Abstractions;
using AgentSecurity.Mcp.Gate;

namespace AgentSecurity.Mcp.Listings;

/// <summary>
/// Which folders below a listed one the grant reads, for one call: asked of the grain in batches (recording and
/// metering nothing) and remembered, so the walk before the call and the filter after it ask about a folder once.
/// </summary>
/// <param name="folder">The folder the call lists.</param>
/// <param name="capability">The check that reads a folder (<c>fileSystem:read</c>).</param>
/// <param name="gate">The agent's gate.</param>
public sealed class FolderReads(ListedFolder folder, string capability, IToolGate gate)
{
    /// <summary>Checks asked in one question to the grain (its limit).</summary>
    public const int Batch = 1024;

    private readonly Dictionary<string, bool> _known = new(StringComparer.Ordinal);

    public ListedFolder Folder { get; } = folder ?? throw new ArgumentNullException(nameof(folder));

    /// <summary>
    /// For each folder (relative to the listed one: <c>a/b</c>), whether the grant reads it by every path it has (as
    /// written and as its real path). An answer that cannot be matched to the folders opens none of them.
    /// </summary>
    public async Task<bool[]> ReadableAsync(List<string> relatives, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(relatives);
        var unknown = relatives.Where(r => !_known.ContainsKey(r)).Distinct(StringComparer.Ordinal).ToList();
        var perFolder = Folder.Real is null ? 1 : 2;
        var foldersPerBatch = Batch / perFolder;
        for (var start = 0; start < unknown.Count; start += foldersPerBatch)
        {
            var batch = unknown.Skip(start).Take(foldersPerBatch).ToList();
            var checks = batch.SelectMany(r => Folder.Below(r).Select(path => new CheckRequest(capability, path))).ToList();
            var answer = await gate.SelectAllowedAsync(checks, cancellationToken).ConfigureAwait(false);
            for (var i = 0; i < batch.Count; i++)
            {
                _known[batch[i]] = answer.Length == checks.Count && answer.AsSpan(i * perFolder, perFolder).IndexOf(false) < 0;
            }
        }

        return [.. relatives.Select(r => _known[r])];
    }
}

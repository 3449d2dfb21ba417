namespace AgentSecurity.Sandbox.Workspaces;

/// <summary>
/// What a workspace holds: the apparent size of its files and links (a sparse file counts as large as it claims to be)
/// and its entries. Measuring stops one entry past the limit, so <see cref="Entries"/> is exact only up to there.
/// </summary>
public readonly record struct WorkspaceUsage(long Bytes, int Entries);

namespace AgentSecurity.Grants.Capabilities;

/// <summary>
/// Optional narrowing of levels to resources. A null list leaves the level unnarrowed; a present list, even an
/// empty one, allows only resources that match one of its patterns.
/// </summary>
public sealed record GrantScopes(
    IReadOnlyList<string>? FileSystem,
    IReadOnlyList<string>? Network,
    IReadOnlyList<string>? Memory)
{
    public static readonly GrantScopes None = new(null, null, null);

    public bool IsEmpty => FileSystem is null && Network is null && Memory is null;
}

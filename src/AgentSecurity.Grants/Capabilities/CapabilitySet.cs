namespace AgentSecurity.Grants.Capabilities;

/// <summary>The six capabilities of a grant (the <c>capabilities</c> member: all six are always present).</summary>
public sealed record CapabilitySet(
    AccessLevel FileSystem,
    NetworkAccess Network,
    AccessLevel Memory,
    bool Subprocess,
    bool VectorDb,
    bool Llm)
{
    public static readonly CapabilitySet Nothing = new(AccessLevel.None, NetworkAccess.None, AccessLevel.None, false, false, false);
}

namespace AgentSecurity.Grants.Capabilities;

/// <summary>Levels of <c>fileSystem</c> and <c>memory</c>, ordered: each includes the ones before it.</summary>
public enum AccessLevel
{
    None = 0,
    Read = 1,
    Write = 2,
    Full = 3,
}

namespace AgentSecurity.Grains;

/// <summary>Names of the grain storage providers the grains persist into.</summary>
public static class StorageNames
{
    /// <summary>Agent and issuer state.</summary>
    public const string Grains = "agentsec";
}

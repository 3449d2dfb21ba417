namespace AgentSecurity.Grains;

/// <summary>Names of the grain storage providers the grains persist into.</summary>
public static class StorageNames
{
    /// <summary>Agent state: small, one record per agent (Azure Table storage).</summary>
    public const string Grains = "agentsec";

    /// <summary>
    /// Issuer state: one per tenant, growing with the tenant's live grants, so kept in Azure Blob storage where a
    /// record is not limited to a table entity's 1 MB.
    /// </summary>
    public const string Issuers = "agentsec-issuers";
}

namespace AgentSecurity.Grants.Documents;

/// <summary>The document types of <c>contracts/signed-documents.md</c> and the members each may carry.</summary>
public static class DocumentTypes
{
    public const string Grant = "agentsec.grant.v1";

    /// <summary>A grant with tools: version 1 plus <c>capabilities.tools</c> and <c>toolRules</c>.</summary>
    public const string GrantV2 = "agentsec.grant.v2";
    public const string Tenant = "agentsec.tenant.v1";
    public const string Admin = "agentsec.admin.v1";

    /// <summary>An admin whose ceiling may carry tools (<c>ceiling.capabilities.tools</c>).</summary>
    public const string AdminV2 = "agentsec.admin.v2";
    public const string Revocation = "agentsec.revocation.v1";
    public const string Quarantine = "agentsec.quarantine.v1";
    public const string Rotation = "agentsec.rotation.v1";

    /// <summary>Who may call the cluster for a tenant (or every tenant), beyond the built-in principals.</summary>
    public const string Access = "agentsec.access.v1";

    /// <summary>A principal calling: signed by the caller, carried with every call.</summary>
    public const string Session = "agentsec.session.v1";

    /// <summary>
    /// This project's addition to the contract: tenant-wide limits, signed by the operator or a root of the tenant.
    /// </summary>
    public const string Limits = "agentsec.limits.v1";

    /// <summary>This project's addition: a signed checkpoint of a tenant's audit log, by the cluster's audit key.</summary>
    public const string Checkpoint = "agentsec.checkpoint.v1";

    /// <summary>Every document is at most 16 KiB of UTF-8.</summary>
    public const int MaxDocumentBytes = 16 * 1024;

    private static readonly string[] Envelope = ["type", "issuedAt", "signedBy", "signature"];

    /// <summary>The members each type allows; any other member is <c>unknown_member</c>.</summary>
    public static readonly IReadOnlyDictionary<string, IReadOnlySet<string>> Members = new Dictionary<string, IReadOnlySet<string>>(StringComparer.Ordinal)
    {
        [Grant] = With("grantId", "tenantId", "agentId", "capabilities", "scopes", "resourceLimits", "environmentIsolation",
            "notBefore", "expiresAt", "agentDid", "parentGrantId"),
        [GrantV2] = With("grantId", "tenantId", "agentId", "capabilities", "scopes", "resourceLimits", "environmentIsolation",
            "notBefore", "expiresAt", "agentDid", "parentGrantId", "toolRules"),
        [Tenant] = With("tenantId", "rootDids"),
        [Admin] = With("tenantId", "adminDid", "ceiling", "expiresAt"),
        [AdminV2] = With("tenantId", "adminDid", "ceiling", "expiresAt"),
        [Revocation] = With("tenantId", "grantId", "reason"),
        [Quarantine] = With("tenantId", "agentId", "action", "reason"),
        [Rotation] = With("tenantId", "oldRootDid", "newRootDid"),
        [Access] = With("accessId", "tenantId", "principalDid", "allow", "agents", "expiresAt"),
        [Session] = With("principalDid", "audience", "nonce", "expiresAt"),
        [Limits] = With("tenantId", "resourceLimits", "maxAgents"),
        [Checkpoint] = With("tenantId", "size", "rootHash", "chainHash"),
    };

    /// <summary>Whether a type is a version of the grant, and so parsed by <see cref="GrantDocument"/>.</summary>
    public static bool IsGrant(string type) => type is Grant or GrantV2;

    /// <summary>The version number of a grant or admin type: 2 for the tool-aware versions, else 1.</summary>
    public static int VersionOf(string type) => type is GrantV2 or AdminV2 ? 2 : 1;

    private static HashSet<string> With(params string[] members) => [.. Envelope, .. members];
}

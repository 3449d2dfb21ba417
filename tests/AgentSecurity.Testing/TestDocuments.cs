using AgentSecurity.Grants.Documents;

namespace AgentSecurity.Testing;

/// <summary>Valid documents to start from; tests change one thing at a time.</summary>
public static class TestDocuments
{
    public const string AllCapabilities =
        """{"fileSystem":"full","network":"full","memory":"full","subprocess":true,"vectorDb":true,"llm":true}""";

    public const string ReadOnlyFiles =
        """{"fileSystem":"read","network":"none","memory":"none","subprocess":false,"vectorDb":false,"llm":false}""";

    /// <summary>A fixed instant for tests that do not care what time it is.</summary>
    public static readonly DateTimeOffset Epoch = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    /// <summary>
    /// A grant of workspace files (read/write under <c>/workspace/**</c>), outbound HTTPS to
    /// <c>*.example.com</c>, and memory under <c>notes/**</c>, valid for a day from <paramref name="issuedAt"/>.
    /// </summary>
    public static DocumentTemplate Grant(string tenant, string agent, DateTimeOffset issuedAt, string grantId = "g-1") =>
        new DocumentTemplate(DocumentTypes.Grant)
            .Set("grantId", grantId)
            .Set("tenantId", tenant)
            .Set("agentId", agent)
            .SetJson("capabilities", """{"fileSystem":"write","network":"outbound","memory":"write","subprocess":false,"vectorDb":false,"llm":true}""")
            .SetJson("scopes", """{"fileSystem":["/workspace/**"],"network":["*.example.com:443"],"memory":["notes/**"]}""")
            .Set("environmentIsolation", "sandboxed")
            .Set("issuedAt", issuedAt)
            .Set("expiresAt", issuedAt.AddDays(1));

    /// <summary>
    /// <see cref="Grant"/> as an <c>agentsec.grant.v2</c> with <paramref name="tools"/> in <c>capabilities.tools</c>
    /// and, when given, <c>toolRules</c> (JSON).
    /// </summary>
    public static DocumentTemplate GrantV2(string tenant, string agent, DateTimeOffset issuedAt, string[] tools, string? toolRules = null, string grantId = "g-1")
    {
        var template = new DocumentTemplate(DocumentTypes.GrantV2)
            .Set("grantId", grantId)
            .Set("tenantId", tenant)
            .Set("agentId", agent)
            .SetJson("capabilities", $$"""{"fileSystem":"write","network":"outbound","memory":"write","subprocess":false,"vectorDb":false,"llm":true,"tools":{{System.Text.Json.JsonSerializer.Serialize(tools)}}}""")
            .SetJson("scopes", """{"fileSystem":["/workspace/**"],"network":["*.example.com:443"],"memory":["notes/**"]}""")
            .Set("environmentIsolation", "sandboxed")
            .Set("issuedAt", issuedAt)
            .Set("expiresAt", issuedAt.AddDays(1));
        return toolRules is null ? template : template.SetJson("toolRules", toolRules);
    }

    public static DocumentTemplate Tenant(string tenant, DateTimeOffset issuedAt, params string[] rootDids) =>
        new DocumentTemplate(DocumentTypes.Tenant)
            .Set("tenantId", tenant)
            .Set("rootDids", DocumentSigner.StringArray(rootDids))
            .Set("issuedAt", issuedAt);

    public static DocumentTemplate Admin(string tenant, string adminDid, DateTimeOffset issuedAt, string ceilingCapabilities, DateTimeOffset expiresAt, string? ceilingLimits = null) =>
        AdminOfType(DocumentTypes.Admin, tenant, adminDid, issuedAt, ceilingCapabilities, expiresAt, ceilingLimits);

    /// <summary>An <c>agentsec.admin.v2</c>: its ceiling's capabilities may carry <c>tools</c>.</summary>
    public static DocumentTemplate AdminV2(string tenant, string adminDid, DateTimeOffset issuedAt, string ceilingCapabilities, DateTimeOffset expiresAt) =>
        AdminOfType(DocumentTypes.AdminV2, tenant, adminDid, issuedAt, ceilingCapabilities, expiresAt, null);

    private static DocumentTemplate AdminOfType(string type, string tenant, string adminDid, DateTimeOffset issuedAt, string ceilingCapabilities, DateTimeOffset expiresAt, string? ceilingLimits) =>
        new DocumentTemplate(type)
            .Set("tenantId", tenant)
            .Set("adminDid", adminDid)
            .SetJson("ceiling", ceilingLimits is null
                ? $$"""{"capabilities":{{ceilingCapabilities}}}"""
                : $$"""{"capabilities":{{ceilingCapabilities}},"resourceLimits":{{ceilingLimits}}}""")
            .Set("expiresAt", expiresAt)
            .Set("issuedAt", issuedAt);

    public static DocumentTemplate Revocation(string tenant, string grantId, DateTimeOffset issuedAt, string reason = "test") =>
        new DocumentTemplate(DocumentTypes.Revocation)
            .Set("tenantId", tenant)
            .Set("grantId", grantId)
            .Set("reason", reason)
            .Set("issuedAt", issuedAt);

    public static DocumentTemplate Quarantine(string tenant, string agent, DateTimeOffset issuedAt, bool quarantine = true, string reason = "test") =>
        new DocumentTemplate(DocumentTypes.Quarantine)
            .Set("tenantId", tenant)
            .Set("agentId", agent)
            .Set("action", quarantine ? "quarantine" : "release")
            .Set("reason", reason)
            .Set("issuedAt", issuedAt);

    public static DocumentTemplate Rotation(string tenant, string oldRootDid, string newRootDid, DateTimeOffset issuedAt) =>
        new DocumentTemplate(DocumentTypes.Rotation)
            .Set("tenantId", tenant)
            .Set("oldRootDid", oldRootDid)
            .Set("newRootDid", newRootDid)
            .Set("issuedAt", issuedAt);

    public static DocumentTemplate Limits(string tenant, DateTimeOffset issuedAt, string resourceLimits, long? maxAgents = null)
    {
        var template = new DocumentTemplate(DocumentTypes.Limits)
            .Set("tenantId", tenant)
            .SetJson("resourceLimits", resourceLimits)
            .Set("issuedAt", issuedAt);
        return maxAgents is { } max ? template.Set("maxAgents", DocumentSigner.Number(max)) : template;
    }

    /// <summary>Access for <paramref name="principalDid"/> to <paramref name="tenant"/> (or <c>"*"</c>) with the given rights, for an hour.</summary>
    public static DocumentTemplate Access(string tenant, string principalDid, DateTimeOffset issuedAt, string accessId = "acc-1", params string[] rights) =>
        new DocumentTemplate(DocumentTypes.Access)
            .Set("accessId", accessId)
            .Set("tenantId", tenant)
            .Set("principalDid", principalDid)
            .Set("allow", DocumentSigner.StringArray(rights.Length == 0 ? ["check"] : rights))
            .Set("issuedAt", issuedAt)
            .Set("expiresAt", issuedAt.AddHours(1));

    /// <summary>A session of the key that signs it, for <paramref name="audience"/>, valid for an hour.</summary>
    public static DocumentTemplate Session(string principalDid, string audience, DateTimeOffset issuedAt) =>
        new DocumentTemplate(DocumentTypes.Session)
            .Set("principalDid", principalDid)
            .Set("audience", audience)
            .Set("nonce", "AAECAwQFBgcICQoLDA0ODw")
            .Set("issuedAt", issuedAt)
            .Set("expiresAt", issuedAt.AddHours(1));
}

using AgentSecurity.Grants.Access;
using AgentSecurity.Grants.Identity;

namespace AgentSecurity.Grants.Documents;

/// <summary>
/// An <c>agentsec.access.v1</c> document: the rights a principal (a platform service, say) has when it calls the cluster
/// for one tenant, or for every tenant (<c>"*"</c>, signed by the operator only), and for which of its agents.
/// </summary>
public sealed class AccessDocument
{
    /// <summary>The tenant id that stands for every tenant.</summary>
    public const string AllTenants = "*";

    public const int MaxAgentPatterns = 64;

    private AccessDocument(SignedDocument envelope)
    {
        Envelope = envelope;
    }

    public SignedDocument Envelope { get; }

    /// <summary>Like a grant id; a revocation naming it (in its <c>grantId</c> member) ends it.</summary>
    public string AccessId { get; private init; } = string.Empty;

    /// <summary>A tenant id, or <see cref="AllTenants"/>.</summary>
    public string TenantId { get; private init; } = string.Empty;

    public DidKey PrincipalDid { get; private init; } = null!;

    public AccessRights Allow { get; private init; }

    /// <summary>The agents covered; null for every agent of the tenant.</summary>
    public IReadOnlyList<AgentPattern>? Agents { get; private init; }

    public DateTimeOffset ExpiresAt { get; private init; }

    public bool ForAllTenants => TenantId == AllTenants;

    /// <summary>Whether the document gives <paramref name="agentId"/> (null: the tenant itself, not one agent) to its principal.</summary>
    public bool Covers(string? agentId) => Agents is null || (agentId is not null && Agents.Any(p => p.Matches(agentId)));

    public static Result<AccessDocument> Parse(ReadOnlySpan<byte> utf8) => DocumentParsing.Parse(utf8, DocumentTypes.Access, (envelope, members) =>
    {
        var tenant = members.RequireString("tenantId");
        if (tenant != AllTenants && !Identifiers.IsTenantId(tenant))
        {
            throw members.Invalid("tenantId", $"must match {Identifiers.TenantIdRule} or be \"{AllTenants}\"");
        }

        var access = new AccessDocument(envelope)
        {
            AccessId = members.RequireIdentifier("accessId", Identifiers.IsGrantId, Identifiers.LocalIdRule),
            TenantId = tenant,
            PrincipalDid = members.RequireDid("principalDid"),
            Allow = ReadRights(members),
            Agents = ReadAgents(members),
            ExpiresAt = members.RequireTime("expiresAt"),
        };
        return access.ExpiresAt > envelope.IssuedAt ? access : throw members.Invalid("expiresAt", "must be after issuedAt");
    });

    public static Result<AccessDocument> Parse(string text) => Parse(System.Text.Encoding.UTF8.GetBytes(text));

    private static AccessRights ReadRights(MemberReader members)
    {
        var names = members.OptionalStringList("allow", maxItems: 16, maxLength: 16) ?? throw members.Invalid("allow", "is required");
        var rights = AccessRights.None;
        foreach (var name in names)
        {
            rights |= AccessRightNames.TryParse(name, out var right)
                ? right
                : throw members.Invalid("allow", $"holds \"{name}\"; rights are {string.Join(", ", AccessRightNames.All)}");
        }

        return rights != AccessRights.None ? rights : throw members.Invalid("allow", "must name at least one right");
    }

    private static List<AgentPattern>? ReadAgents(MemberReader members)
    {
        var texts = members.OptionalStringList("agents", MaxAgentPatterns, AgentPattern.MaxLength);
        if (texts is null)
        {
            return null;
        }

        var patterns = new List<AgentPattern>(texts.Count);
        foreach (var text in texts)
        {
            patterns.Add(AgentPattern.TryParse(text, out var pattern)
                ? pattern
                : throw members.Invalid("agents", $"holds \"{text}\", which is not an agent id pattern ({Identifiers.LocalIdRule}, * for any characters)"));
        }

        return patterns;
    }
}

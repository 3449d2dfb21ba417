using AgentSecurity.Grants.Capabilities;
using AgentSecurity.Grants.Identity;
using AgentSecurity.Grants.Json;
using AgentSecurity.Grants.Policy;

namespace AgentSecurity.Grants.Documents;

/// <summary>An <c>agentsec.grant.v1</c> document: an agent's permission, as signed by its grantor.</summary>
public sealed class GrantDocument
{
    /// <summary>Patterns per scope list; bounds the work of a check and the size of an agent's state.</summary>
    public const int MaxPatternsPerScope = 64;

    public const int MaxPatternLength = 256;

    private static readonly IReadOnlySet<string> CapabilityMembers =
        new HashSet<string>(StringComparer.Ordinal) { "fileSystem", "network", "memory", "subprocess", "vectorDb", "llm" };

    private static readonly IReadOnlySet<string> ScopeMembers =
        new HashSet<string>(StringComparer.Ordinal) { "fileSystem", "network", "memory" };

    private static readonly IReadOnlySet<string> LimitMembers = new HashSet<string>(ResourceLimits.Names, StringComparer.Ordinal);

    private GrantDocument(SignedDocument envelope)
    {
        Envelope = envelope;
    }

    public SignedDocument Envelope { get; }

    public string GrantId { get; private init; } = string.Empty;

    public string TenantId { get; private init; } = string.Empty;

    public string AgentId { get; private init; } = string.Empty;

    public CapabilitySet Capabilities { get; private init; } = CapabilitySet.Nothing;

    public GrantScopes Scopes { get; private init; } = GrantScopes.None;

    public ResourceLimits Limits { get; private init; } = ResourceLimits.None;

    public IsolationLevel Isolation { get; private init; }

    public DateTimeOffset IssuedAt => Envelope.IssuedAt;

    public DateTimeOffset NotBefore { get; private init; }

    public DateTimeOffset ExpiresAt { get; private init; }

    /// <summary>The agent's own DID; only a grant that names it lets the agent delegate.</summary>
    public DidKey? AgentDid { get; private init; }

    /// <summary>Present exactly when this grant is a delegation.</summary>
    public string? ParentGrantId { get; private init; }

    public DidKey SignedBy => Envelope.SignedBy;

    /// <summary>Parses a grant and checks its form; the signature and trust are checked separately.</summary>
    public static Result<GrantDocument> Parse(ReadOnlySpan<byte> utf8)
    {
        try
        {
            return Result<GrantDocument>.Ok(FromEnvelope(SignedDocument.ParseOfType(utf8, DocumentTypes.Grant)));
        }
        catch (DocumentFormatException e)
        {
            return e.ToFailure();
        }
    }

    public static Result<GrantDocument> Parse(string text) => Parse(System.Text.Encoding.UTF8.GetBytes(text));

    private static GrantDocument FromEnvelope(SignedDocument envelope)
    {
        var members = new MemberReader(envelope.Body, string.Empty, DocumentTypes.Members[DocumentTypes.Grant]);
        var notBefore = members.OptionalTime("notBefore") ?? envelope.IssuedAt;
        var grant = new GrantDocument(envelope)
        {
            GrantId = members.RequireIdentifier("grantId", Identifiers.IsGrantId, "[A-Za-z0-9][A-Za-z0-9._:-]{0,127}"),
            TenantId = members.RequireIdentifier("tenantId", Identifiers.IsTenantId, "[a-z0-9][a-z0-9-]{0,62}"),
            AgentId = members.RequireIdentifier("agentId", Identifiers.IsAgentId, "[A-Za-z0-9][A-Za-z0-9._:-]{0,127}"),
            Capabilities = ReadCapabilities(members.RequireObject("capabilities"), "capabilities"),
            Scopes = ReadScopes(members.OptionalObject("scopes")),
            Limits = ReadLimits(members.OptionalObject("resourceLimits"), "resourceLimits"),
            Isolation = members.RequireEnum("environmentIsolation", CapabilityNames.IsolationLevels),
            NotBefore = notBefore,
            ExpiresAt = members.RequireTime("expiresAt"),
            AgentDid = members.OptionalDid("agentDid"),
            ParentGrantId = members.OptionalIdentifier("parentGrantId", Identifiers.IsGrantId, "[A-Za-z0-9][A-Za-z0-9._:-]{0,127}"),
        };

        if (grant.ExpiresAt <= grant.NotBefore)
        {
            throw members.Invalid("expiresAt", "must be after notBefore (or issuedAt when notBefore is absent)");
        }

        return grant;
    }

    /// <summary>Reads a <c>capabilities</c> object; also the ceiling of an admin document.</summary>
    internal static CapabilitySet ReadCapabilities(JObject obj, string path)
    {
        var members = new MemberReader(obj, path, CapabilityMembers);
        return new CapabilitySet(
            members.RequireEnum("fileSystem", CapabilityNames.AccessLevels),
            members.RequireEnum("network", CapabilityNames.NetworkLevels),
            members.RequireEnum("memory", CapabilityNames.AccessLevels),
            members.RequireBool("subprocess"),
            members.RequireBool("vectorDb"),
            members.RequireBool("llm"));
    }

    internal static ResourceLimits ReadLimits(JObject? obj, string path)
    {
        if (obj is null)
        {
            return ResourceLimits.None;
        }

        var members = new MemberReader(obj, path, LimitMembers);
        var limits = ResourceLimits.None;
        foreach (var name in ResourceLimits.Names)
        {
            if (members.OptionalInteger(name) is { } value)
            {
                limits = limits.With(name, value);
            }
        }

        return limits;
    }

    private static GrantScopes ReadScopes(JObject? obj)
    {
        if (obj is null)
        {
            return GrantScopes.None;
        }

        var members = new MemberReader(obj, "scopes", ScopeMembers);
        return new GrantScopes(
            ReadPatterns(members, "fileSystem", text => PathPattern.TryParse(text, ResourceKind.Path, out _), "an absolute path pattern in normal form"),
            ReadPatterns(members, "network", text => HostPattern.TryParse(text, out _), "a host pattern name:port, *.name:port or name:*"),
            ReadPatterns(members, "memory", text => PathPattern.TryParse(text, ResourceKind.Key, out _), "a key pattern in normal form"));
    }

    private static IReadOnlyList<string>? ReadPatterns(MemberReader members, string name, Func<string, bool> isValid, string rule)
    {
        var patterns = members.OptionalStringList(name, MaxPatternsPerScope, MaxPatternLength);
        var bad = patterns?.FirstOrDefault(p => !isValid(p));
        return bad is null ? patterns : throw members.Invalid(name, $"holds \"{bad}\", which is not {rule}");
    }
}

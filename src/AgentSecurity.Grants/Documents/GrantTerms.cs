using AgentSecurity.Grants.Capabilities;
using AgentSecurity.Grants.Json;
using AgentSecurity.Grants.Policy;

namespace AgentSecurity.Grants.Documents;

/// <summary>
/// What a grant permits and when: the part of a grant that decisions, attenuation and ceilings compare. A signed
/// grant has terms; so has a proposed, unsigned one (what-if).
/// </summary>
public sealed record GrantTerms(
    CapabilitySet Capabilities,
    GrantScopes Scopes,
    ResourceLimits Limits,
    IsolationLevel Isolation,
    DateTimeOffset NotBefore,
    DateTimeOffset ExpiresAt)
{
    /// <summary>Patterns per scope list; bounds the work of a check and the size of an agent's state.</summary>
    public const int MaxPatternsPerScope = 64;

    public const int MaxPatternLength = 256;

    /// <summary>
    /// Characters of the patterns with a wildcard before their end (<c>/data/*/reports/*.csv</c>) per scope list. A check
    /// costs up to their length times the resource's (in words of 64 positions): this bounds what one grant can make
    /// every check of its agent cost, whatever its patterns hold. Literals and trailing wildcards (<c>/workspace/**</c>)
    /// cost a string comparison and do not count.
    /// </summary>
    public const int MaxInnerWildcardCharacters = 2048;

    private static readonly IReadOnlySet<string> CapabilityMembers =
        new HashSet<string>(StringComparer.Ordinal) { "fileSystem", "network", "memory", "subprocess", "vectorDb", "llm" };

    private static readonly IReadOnlySet<string> ScopeMembers =
        new HashSet<string>(StringComparer.Ordinal) { "fileSystem", "network", "memory" };

    private static readonly IReadOnlySet<string> LimitMembers = new HashSet<string>(ResourceLimits.Names, StringComparer.Ordinal);

    /// <summary>
    /// Reads a proposed grant for what-if questions: the members of a grant, signed or not (a signature is neither
    /// required nor checked). Without notBefore or issuedAt the proposal starts at <paramref name="now"/>.
    /// </summary>
    public static Result<GrantTerms> ParseProposal(ReadOnlySpan<byte> utf8, DateTimeOffset now)
    {
        if (utf8.Length > DocumentTypes.MaxDocumentBytes)
        {
            return Result<GrantTerms>.Fail(ReasonCodes.TooLarge, $"a document is at most {DocumentTypes.MaxDocumentBytes} bytes");
        }

        var json = StrictJsonParser.Parse(utf8);
        if (!json.Succeeded)
        {
            return json.Failure;
        }

        if (json.Value is not JObject body)
        {
            return Result<GrantTerms>.Fail(ReasonCodes.MalformedJson, "a proposed grant is a JSON object");
        }

        try
        {
            var members = new MemberReader(body, string.Empty, DocumentTypes.Members[DocumentTypes.Grant]);
            if (members.OptionalString("type") is { } type && type != DocumentTypes.Grant)
            {
                return Result<GrantTerms>.Fail(ReasonCodes.UnsupportedType, $"expected a {DocumentTypes.Grant} proposal, not {type}");
            }

            return Result<GrantTerms>.Ok(Read(members, members.OptionalTime("issuedAt") ?? now));
        }
        catch (DocumentFormatException e)
        {
            return e.ToFailure();
        }
    }

    /// <summary>Reads the terms of a grant's members; <paramref name="defaultNotBefore"/> stands in for an absent notBefore.</summary>
    internal static GrantTerms Read(MemberReader members, DateTimeOffset defaultNotBefore)
    {
        var notBefore = members.OptionalTime("notBefore") ?? defaultNotBefore;
        var terms = new GrantTerms(
            ReadCapabilities(members.RequireObject("capabilities"), "capabilities"),
            ReadScopes(members.OptionalObject("scopes")),
            ReadLimits(members.OptionalObject("resourceLimits"), "resourceLimits"),
            members.RequireEnum("environmentIsolation", CapabilityNames.IsolationLevels),
            notBefore,
            members.RequireTime("expiresAt"));
        if (terms.ExpiresAt <= terms.NotBefore)
        {
            throw members.Invalid("expiresAt", "must be after notBefore (or issuedAt when notBefore is absent)");
        }

        return terms;
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
            ReadPathPatterns(members, "fileSystem", ResourceKind.Path, "an absolute path pattern in normal form"),
            ReadPatterns(members, "network", text => HostPattern.TryParse(text, out _), "a host pattern name:port, *.name:port or name:*"),
            ReadPathPatterns(members, "memory", ResourceKind.Key, "a key pattern in normal form"));
    }

    private static IReadOnlyList<string>? ReadPathPatterns(MemberReader members, string name, ResourceKind kind, string rule)
    {
        var patterns = ReadPatterns(members, name, text => PathPattern.TryParse(text, kind, out _), rule);
        var inner = patterns?.Sum(p => PathPattern.TryParse(p, kind, out var pattern) && pattern.HasInnerWildcard ? p.Length : 0) ?? 0;
        return inner <= MaxInnerWildcardCharacters
            ? patterns
            : throw members.Invalid(name, $"holds {inner} characters of patterns with a wildcard before their end; at most {MaxInnerWildcardCharacters} (each check pays for them)");
    }

    private static IReadOnlyList<string>? ReadPatterns(MemberReader members, string name, Func<string, bool> isValid, string rule)
    {
        var patterns = members.OptionalStringList(name, MaxPatternsPerScope, MaxPatternLength);
        var bad = patterns?.FirstOrDefault(p => !isValid(p));
        return bad is null ? patterns : throw members.Invalid(name, $"holds \"{bad}\", which is not {rule}");
    }
}

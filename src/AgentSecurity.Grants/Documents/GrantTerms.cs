using AgentSecurity.Grants.Capabilities;
using AgentSecurity.Grants.Json;
using AgentSecurity.Grants.Policy;
using AgentSecurity.Grants.Tools;

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
    /// <summary>What the grant says about tools (grant v2); <see cref="ToolTerms.None"/> for a v1 grant: no tool at all.</summary>
    public ToolTerms Tools { get; init; } = ToolTerms.None;

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

    /// <summary>Tool patterns per list (<c>capabilities.tools</c>, <c>toolRules.approve</c>) and pins per grant.</summary>
    public const int MaxTools = 256;

    /// <summary>A tool pattern is two names of at most 64 characters and a slash.</summary>
    private const int MaxToolPatternLength = (2 * ToolNames.MaxNameLength) + 1;

    private static readonly IReadOnlySet<string> CapabilityMembers =
        new HashSet<string>(StringComparer.Ordinal) { "fileSystem", "network", "memory", "subprocess", "vectorDb", "llm" };

    private static readonly IReadOnlySet<string> CapabilityMembersV2 = new HashSet<string>(CapabilityMembers, StringComparer.Ordinal) { "tools" };

    private static readonly IReadOnlySet<string> ToolRuleMembers = new HashSet<string>(StringComparer.Ordinal) { "approve", "pins" };

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
            // Without a type, a proposal may say anything either version can.
            var type = body["type"] is JString t ? t.Value : DocumentTypes.GrantV2;
            if (!DocumentTypes.IsGrant(type))
            {
                return Result<GrantTerms>.Fail(ReasonCodes.UnsupportedType, $"expected a {DocumentTypes.Grant} or {DocumentTypes.GrantV2} proposal, not {type}");
            }

            var members = new MemberReader(body, string.Empty, DocumentTypes.Members[type]);
            return Result<GrantTerms>.Ok(Read(members, members.OptionalTime("issuedAt") ?? now, DocumentTypes.VersionOf(type)));
        }
        catch (DocumentFormatException e)
        {
            return e.ToFailure();
        }
    }

    /// <summary>Reads the terms of a grant's members; <paramref name="defaultNotBefore"/> stands in for an absent notBefore.</summary>
    internal static GrantTerms Read(MemberReader members, DateTimeOffset defaultNotBefore, int version)
    {
        var notBefore = members.OptionalTime("notBefore") ?? defaultNotBefore;
        var capabilities = ReadCapabilities(members.RequireObject("capabilities"), "capabilities", version, out var tools);
        var terms = new GrantTerms(
            capabilities,
            ReadScopes(members.OptionalObject("scopes")),
            ReadLimits(members.OptionalObject("resourceLimits"), "resourceLimits"),
            members.RequireEnum("environmentIsolation", CapabilityNames.IsolationLevels),
            notBefore,
            members.RequireTime("expiresAt"))
        {
            Tools = version >= 2 ? ReadToolRules(members.OptionalObject("toolRules"), tools) : ToolTerms.None,
        };
        if (terms.ExpiresAt <= terms.NotBefore)
        {
            throw members.Invalid("expiresAt", "must be after notBefore (or issuedAt when notBefore is absent)");
        }

        return terms;
    }

    /// <summary>Reads a <c>capabilities</c> object; also the ceiling of an admin document. Version 2 may carry <c>tools</c>.</summary>
    internal static CapabilitySet ReadCapabilities(JObject obj, string path, int version, out IReadOnlyList<string> tools)
    {
        var members = new MemberReader(obj, path, version >= 2 ? CapabilityMembersV2 : CapabilityMembers);
        tools = version >= 2 ? ReadToolPatterns(members, "tools") : [];
        return new CapabilitySet(
            members.RequireEnum("fileSystem", CapabilityNames.AccessLevels),
            members.RequireEnum("network", CapabilityNames.NetworkLevels),
            members.RequireEnum("memory", CapabilityNames.AccessLevels),
            members.RequireBool("subprocess"),
            members.RequireBool("vectorDb"),
            members.RequireBool("llm"));
    }

    /// <summary>Reads <c>toolRules</c> (absent: none) for the granted <paramref name="patterns"/>.</summary>
    private static ToolTerms ReadToolRules(JObject? obj, IReadOnlyList<string> patterns)
    {
        if (obj is null)
        {
            return patterns.Count == 0 ? ToolTerms.None : new ToolTerms(patterns, [], ToolTerms.None.Pins);
        }

        var members = new MemberReader(obj, "toolRules", ToolRuleMembers);
        return new ToolTerms(patterns, ReadToolPatterns(members, "approve"), ReadPins(members, "pins"));
    }

    private static IReadOnlyList<string> ReadToolPatterns(MemberReader members, string name) =>
        ReadPatterns(members, name, MaxTools, MaxToolPatternLength, text => ToolPattern.TryParse(text, out _),
            "a tool pattern server/tool: two names [A-Za-z0-9][A-Za-z0-9._-]{0,63}, in which * stands for any run of characters but /")
        ?? [];

    private static Dictionary<string, string> ReadPins(MemberReader members, string name)
    {
        var pins = new Dictionary<string, string>(StringComparer.Ordinal);
        if (members.OptionalObject(name) is not { } obj)
        {
            return pins;
        }

        if (obj.Members.Count > MaxTools)
        {
            throw members.Invalid(name, $"must hold at most {MaxTools} pins");
        }

        foreach (var (tool, value) in obj.Members)
        {
            if (!ToolNames.IsTool(tool))
            {
                throw members.Invalid(name, $"names \"{tool}\", which is not an exact tool server/tool (no *)");
            }

            if (value is not JString { Value: var hash } || !ToolDefinitionHash.IsHash(hash))
            {
                throw members.Invalid(name, $"pins \"{tool}\" to something other than sha256: and 64 lowercase hex digits");
            }

            pins[tool] = hash; // the strict parser refused duplicate members already
        }

        return pins;
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

    private static IReadOnlyList<string>? ReadPatterns(MemberReader members, string name, Func<string, bool> isValid, string rule) =>
        ReadPatterns(members, name, MaxPatternsPerScope, MaxPatternLength, isValid, rule);

    private static IReadOnlyList<string>? ReadPatterns(MemberReader members, string name, int maxItems, int maxLength, Func<string, bool> isValid, string rule)
    {
        var patterns = members.OptionalStringList(name, maxItems, maxLength);
        var bad = patterns?.FirstOrDefault(p => !isValid(p));
        return bad is null ? patterns : throw members.Invalid(name, $"holds \"{bad}\", which is not {rule}");
    }
}

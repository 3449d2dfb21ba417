using AgentSecurity.Grants.Capabilities;
using AgentSecurity.Grants.Documents;
using AgentSecurity.Grants.Tools;

namespace AgentSecurity.Grants.Policy;

/// <summary>
/// A verified grant compiled for the hot path: levels, compiled scope patterns and the time window, decided
/// from memory with no I/O and no cryptography. Default deny: anything not granted is denied.
/// </summary>
public sealed class GrantPolicy
{
    private readonly PathPattern[]? _fileSystem;
    private readonly HostPattern[]? _network;
    private readonly PathPattern[]? _memory;
    private readonly ToolPattern[] _tools;
    private readonly ToolPattern[] _approve;

    public GrantPolicy(GrantTerms terms, TimeSpan clockSkew)
    {
        Terms = terms;
        ClockSkew = clockSkew;
        _fileSystem = terms.Scopes.FileSystem?.Select(p => CompilePath(p, ResourceKind.Path)).ToArray();
        _network = terms.Scopes.Network?.Select(CompileHost).ToArray();
        _memory = terms.Scopes.Memory?.Select(p => CompilePath(p, ResourceKind.Key)).ToArray();
        _tools = terms.Tools.Patterns.Select(ToolPattern.Parse).ToArray();
        _approve = terms.Tools.Approve.Select(ToolPattern.Parse).ToArray();
    }

    public GrantTerms Terms { get; }

    public CapabilitySet Capabilities => Terms.Capabilities;

    public DateTimeOffset NotBefore => Terms.NotBefore;

    public DateTimeOffset ExpiresAt => Terms.ExpiresAt;

    /// <summary>Tolerance for a grantor whose clock runs ahead; it never extends <see cref="ExpiresAt"/>.</summary>
    public TimeSpan ClockSkew { get; }

    public static GrantPolicy For(GrantDocument grant, TimeSpan clockSkew) => new(grant.Terms, clockSkew);

    public PolicyDecision Decide(string capability, string? resource, DateTimeOffset now, string? definitionHash = null) =>
        CheckKinds.TryParse(capability, out var kind) ? Decide(kind, resource, now, definitionHash) : UnknownCapability(capability);

    /// <summary>The answer to a capability that is not one: it names the ones there are.</summary>
    public static PolicyDecision UnknownCapability(string? capability) =>
        PolicyDecision.Deny(ReasonCodes.UnknownCapability, $"\"{capability}\" is not a capability; known: {string.Join(", ", CheckKinds.Names)}", DecisionRule.Capability);

    /// <summary>
    /// Decides a check; <paramref name="definitionHash"/> is what a <c>tool:call</c> offers against the grant's pins
    /// (other checks ignore it).
    /// </summary>
    public PolicyDecision Decide(CheckKind kind, string? resource, DateTimeOffset now, string? definitionHash = null)
    {
        var capability = kind.Name();
        var resourceKind = kind.ResourceKindOf();
        string? host = null;
        var port = 0;
        // A host is parsed once, here, for the decision too.
        if (resource is not null && resourceKind is { } rk
            && !(rk == ResourceKind.Host ? ResourceNames.TryParseHost(resource, out host, out port) : ResourceNames.IsNormal(resource, rk)))
        {
            return PolicyDecision.Deny(ReasonCodes.InvalidResource, $"\"{resource}\" is not {Describe(rk)} in normal form", DecisionRule.Resource);
        }

        if (now + ClockSkew < NotBefore)
        {
            return PolicyDecision.Deny(ReasonCodes.NotYetValid, $"the grant is valid from {DocumentTime.ToText(NotBefore)}", DecisionRule.NotBefore);
        }

        if (now >= ExpiresAt)
        {
            return PolicyDecision.Deny(ReasonCodes.Expired, $"the grant expired at {DocumentTime.ToText(ExpiresAt)}", DecisionRule.ExpiresAt);
        }

        if (!IsGranted(kind))
        {
            return PolicyDecision.Deny(ReasonCodes.CapabilityNotGranted, $"the grant does not give {capability}", DecisionRule.Level);
        }

        if (host is not null)
        {
            return DecideHost(capability, resource!, host, port);
        }

        if (kind == CheckKind.ToolCall)
        {
            return DecideTool(resource, definitionHash);
        }

        return MatchScope(kind, resource) switch
        {
            { Scoped: false } => PolicyDecision.Allow(DecisionRule.Level, null),
            { Pattern: { } pattern } => PolicyDecision.Allow(DecisionRule.Scope, pattern),
            _ => PolicyDecision.Deny(ReasonCodes.OutOfScope, resource is null
                ? $"{capability} is scoped: name a resource"
                : $"\"{resource}\" matches no {capability.Split(':')[0]} scope of the grant", DecisionRule.Scope),
        };
    }

    private bool IsGranted(CheckKind kind) => kind switch
    {
        CheckKind.FileSystemRead => Capabilities.FileSystem >= AccessLevel.Read,
        CheckKind.FileSystemWrite => Capabilities.FileSystem >= AccessLevel.Write,
        CheckKind.FileSystemDelete => Capabilities.FileSystem >= AccessLevel.Full,
        CheckKind.MemoryRead => Capabilities.Memory >= AccessLevel.Read,
        CheckKind.MemoryWrite => Capabilities.Memory >= AccessLevel.Write,
        CheckKind.MemoryDelete => Capabilities.Memory >= AccessLevel.Full,
        CheckKind.NetworkOutbound => Capabilities.Network.HasFlag(NetworkAccess.Outbound),
        CheckKind.NetworkInbound => Capabilities.Network.HasFlag(NetworkAccess.Inbound),
        CheckKind.Subprocess => Capabilities.Subprocess,
        CheckKind.VectorDb => Capabilities.VectorDb,
        CheckKind.Llm => Capabilities.Llm,
        CheckKind.ToolCall => _tools.Length > 0,
        _ => false,
    };

    /// <summary>
    /// A tool the grant gives: a pattern of <c>capabilities.tools</c> matches it, its definition matches its pin if it
    /// has one, and it needs no approval. In that order, so that an elevation (which answers only scope and approval)
    /// never lets a changed definition through.
    /// </summary>
    private PolicyDecision DecideTool(string? tool, string? definitionHash)
    {
        if (tool is null)
        {
            return PolicyDecision.Deny(ReasonCodes.OutOfScope, "tool:call names the tool: server/tool", DecisionRule.Scope);
        }

        var granted = FirstMatch(_tools, tool);
        if (granted is null)
        {
            return PolicyDecision.Deny(ReasonCodes.OutOfScope, $"\"{tool}\" matches no tool pattern of the grant", DecisionRule.Scope);
        }

        if (PinVerdict(tool, definitionHash) is { } changed)
        {
            return changed;
        }

        return FirstMatch(_approve, tool) is { } approve
            ? new PolicyDecision(false, ReasonCodes.ApprovalRequired, $"{tool} needs a person's approval (toolRules.approve \"{approve}\")", DecisionRule.Approval, approve)
            : PolicyDecision.Allow(DecisionRule.Scope, granted);
    }

    /// <summary>
    /// The refusal of a pinned tool whose definition hash is not the pinned one (or is not given), else null. Held
    /// against every call of the tool, whichever grant allows it.
    /// </summary>
    public PolicyDecision? PinVerdict(string tool, string? definitionHash)
    {
        if (!Terms.Tools.Pins.TryGetValue(tool, out var pinned) || string.Equals(pinned, definitionHash, StringComparison.Ordinal))
        {
            return null;
        }

        var message = definitionHash is null
            ? $"{tool} is pinned to {pinned}: a check must name the definition's hash"
            : $"{tool} is pinned to {pinned}, its definition now hashes to {definitionHash}";
        return new PolicyDecision(false, ReasonCodes.ToolChanged, message, DecisionRule.Pin, tool);
    }

    /// <summary>Whether the grant gives a tool by name (pattern and pin), leaving approval aside: what a gateway may show.</summary>
    public bool Shows(string tool, string? definitionHash) => FirstMatch(_tools, tool) is not null && PinVerdict(tool, definitionHash) is null;

    private static string? FirstMatch(ToolPattern[] patterns, string tool)
    {
        foreach (var pattern in patterns)
        {
            if (pattern.Matches(tool))
            {
                return pattern.Text;
            }
        }

        return null;
    }

    /// <summary>Whether the capability is scoped and, if so, the first pattern the resource matches.</summary>
    private (bool Scoped, string? Pattern) MatchScope(CheckKind kind, string? resource)
    {
        switch (kind.ResourceKindOf())
        {
            case ResourceKind.Path:
                return MatchPath(_fileSystem, resource);
            case ResourceKind.Key:
                return MatchPath(_memory, resource);
            case ResourceKind.Host:
                return (_network is not null, null); // a named host is decided by DecideHost
            default:
                return (false, null);
        }
    }

    /// <summary>
    /// A host the grant's level allows. An internal destination (this machine, private networks, metadata services) is
    /// allowed only by a pattern that names it literally: a grant for any host, or for <c>*.0.0.1:*</c>, means the
    /// internet, and an elevation is judged the same way, whichever document allows the call.
    /// </summary>
    private PolicyDecision DecideHost(string capability, string resource, string host, int port)
    {
        var internalHost = InternalAddresses.IsInternalHost(host);
        if (_network is null && !internalHost)
        {
            return PolicyDecision.Allow(DecisionRule.Level, null);
        }

        foreach (var pattern in _network ?? [])
        {
            if (internalHost ? pattern.NamesLiterally(host, port) : pattern.Matches(host, port))
            {
                return PolicyDecision.Allow(DecisionRule.Scope, pattern.Text);
            }
        }

        var portText = port.ToString(System.Globalization.CultureInfo.InvariantCulture);
        return internalHost
            ? PolicyDecision.Deny(ReasonCodes.InternalAddress, $"{host} is this machine or a private network: only a network scope that names it ({host}:{portText} or {host}:*) allows it", DecisionRule.Scope)
            : PolicyDecision.Deny(ReasonCodes.OutOfScope, $"\"{resource}\" matches no {capability.Split(':')[0]} scope of the grant", DecisionRule.Scope);
    }

    private static (bool Scoped, string? Pattern) MatchPath(PathPattern[]? patterns, string? resource)
    {
        if (patterns is null)
        {
            return (false, null);
        }

        if (resource is not null)
        {
            foreach (var pattern in patterns)
            {
                if (pattern.Matches(resource))
                {
                    return (true, pattern.Text);
                }
            }
        }

        return (true, null);
    }

    private static PathPattern CompilePath(string text, ResourceKind kind) =>
        PathPattern.TryParse(text, kind, out var pattern) ? pattern : throw new ArgumentException($"invalid scope pattern \"{text}\"", nameof(text));

    private static HostPattern CompileHost(string text) =>
        HostPattern.TryParse(text, out var pattern) ? pattern : throw new ArgumentException($"invalid host pattern \"{text}\"", nameof(text));

    private static string Describe(ResourceKind kind) => kind switch
    {
        ResourceKind.Path => "an absolute path",
        ResourceKind.Key => "a memory key",
        ResourceKind.Tool => "a tool server/tool",
        _ => "a host:port",
    };
}

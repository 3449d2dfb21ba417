using AgentSecurity.Grants.Capabilities;
using AgentSecurity.Grants.Documents;

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

    public GrantPolicy(CapabilitySet capabilities, GrantScopes scopes, DateTimeOffset notBefore, DateTimeOffset expiresAt, TimeSpan clockSkew)
    {
        Capabilities = capabilities;
        NotBefore = notBefore;
        ExpiresAt = expiresAt;
        ClockSkew = clockSkew;
        _fileSystem = scopes.FileSystem?.Select(p => CompilePath(p, ResourceKind.Path)).ToArray();
        _network = scopes.Network?.Select(CompileHost).ToArray();
        _memory = scopes.Memory?.Select(p => CompilePath(p, ResourceKind.Key)).ToArray();
    }

    public CapabilitySet Capabilities { get; }

    public DateTimeOffset NotBefore { get; }

    public DateTimeOffset ExpiresAt { get; }

    /// <summary>Tolerance for a grantor whose clock runs ahead; it never extends <see cref="ExpiresAt"/>.</summary>
    public TimeSpan ClockSkew { get; }

    public static GrantPolicy For(GrantDocument grant, TimeSpan clockSkew) =>
        new(grant.Capabilities, grant.Scopes, grant.NotBefore, grant.ExpiresAt, clockSkew);

    public PolicyDecision Decide(string capability, string? resource, DateTimeOffset now)
    {
        if (!CheckKinds.TryParse(capability, out var kind))
        {
            return PolicyDecision.Deny(ReasonCodes.UnknownCapability, $"\"{capability}\" is not a capability; known: {string.Join(", ", CheckKinds.Names)}");
        }

        var resourceKind = kind.ResourceKindOf();
        if (resource is not null && resourceKind is { } rk && !ResourceNames.IsNormal(resource, rk))
        {
            return PolicyDecision.Deny(ReasonCodes.InvalidResource, $"\"{resource}\" is not {Describe(rk)} in normal form");
        }

        if (now + ClockSkew < NotBefore)
        {
            return PolicyDecision.Deny(ReasonCodes.NotYetValid, $"the grant is valid from {DocumentTime.ToText(NotBefore)}");
        }

        if (now >= ExpiresAt)
        {
            return PolicyDecision.Deny(ReasonCodes.Expired, $"the grant expired at {DocumentTime.ToText(ExpiresAt)}");
        }

        if (!IsGranted(kind))
        {
            return PolicyDecision.Deny(ReasonCodes.CapabilityNotGranted, $"the grant does not give {capability}");
        }

        return InScope(kind, resource)
            ? PolicyDecision.Allow
            : PolicyDecision.Deny(ReasonCodes.OutOfScope, resource is null
                ? $"{capability} is scoped: name a resource"
                : $"\"{resource}\" matches no {capability.Split(':')[0]} scope of the grant");
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
        _ => false,
    };

    private bool InScope(CheckKind kind, string? resource)
    {
        switch (kind.ResourceKindOf())
        {
            case ResourceKind.Path:
                return MatchesAny(_fileSystem, resource);
            case ResourceKind.Key:
                return MatchesAny(_memory, resource);
            case ResourceKind.Host:
                if (_network is null)
                {
                    return true;
                }

                if (resource is null || !ResourceNames.TryParseHost(resource, out var host, out var port))
                {
                    return false;
                }

                foreach (var pattern in _network)
                {
                    if (pattern.Matches(host, port))
                    {
                        return true;
                    }
                }

                return false;
            default:
                return true;
        }
    }

    private static bool MatchesAny(PathPattern[]? patterns, string? resource)
    {
        if (patterns is null)
        {
            return true;
        }

        if (resource is null)
        {
            return false;
        }

        foreach (var pattern in patterns)
        {
            if (pattern.Matches(resource))
            {
                return true;
            }
        }

        return false;
    }

    private static PathPattern CompilePath(string text, ResourceKind kind) =>
        PathPattern.TryParse(text, kind, out var pattern) ? pattern : throw new ArgumentException($"invalid scope pattern \"{text}\"", nameof(text));

    private static HostPattern CompileHost(string text) =>
        HostPattern.TryParse(text, out var pattern) ? pattern : throw new ArgumentException($"invalid host pattern \"{text}\"", nameof(text));

    private static string Describe(ResourceKind kind) => kind switch
    {
        ResourceKind.Path => "an absolute path",
        ResourceKind.Key => "a memory key",
        _ => "a host:port",
    };
}

using AgentSecurity.Grants.Capabilities;
using AgentSecurity.Grants.Documents;
using AgentSecurity.Grants.Tools;

namespace AgentSecurity.Grants.Policy;

/// <summary>
/// "Can only narrow": whether one grant's terms stay within another's (a delegated grant within its parent), and
/// whether terms stay within an admin's ceiling. Each answers null when within, else an <c>escalation</c> naming
/// the first dimension that is wider. Scope coverage is decided soundly: when in doubt, wider.
/// </summary>
public static class Attenuation
{
    /// <summary>
    /// Whether a delegated grant stays within its parent. Limits are compared as the platform applies them
    /// (<paramref name="platform"/>): a limit either grant leaves out is the platform's default, not "unlimited".
    /// </summary>
    public static Failure? WithinParent(GrantTerms parent, GrantTerms child, PlatformLimits platform)
    {
        var wider = WiderCapability(parent.Capabilities, child.Capabilities)
            // A kind the child has no level for allows nothing, whatever its scopes say.
            ?? (child.Capabilities.FileSystem == AccessLevel.None ? null : WiderScopes("fileSystem", parent.Scopes.FileSystem, child.Scopes.FileSystem, ResourceKind.Path))
            ?? (child.Capabilities.Network == NetworkAccess.None ? null : WiderScopes("network", parent.Scopes.Network, child.Scopes.Network, ResourceKind.Host))
            ?? (child.Capabilities.Memory == AccessLevel.None ? null : WiderScopes("memory", parent.Scopes.Memory, child.Scopes.Memory, ResourceKind.Key))
            ?? WiderLimit(parent.Limits, child.Limits, platform, "the parent")
            ?? (child.ExpiresAt > parent.ExpiresAt ? $"expiresAt {DocumentTime.ToText(child.ExpiresAt)} is after the parent's {DocumentTime.ToText(parent.ExpiresAt)}" : null)
            ?? (child.NotBefore < parent.NotBefore ? $"notBefore {DocumentTime.ToText(child.NotBefore)} is before the parent's {DocumentTime.ToText(parent.NotBefore)}" : null)
            ?? WiderIsolation(parent.Isolation, child.Isolation)
            ?? WiderTools("capabilities.tools", parent.Tools.Patterns, child.Tools.Patterns, "the parent's")
            ?? DroppedToolRules(parent.Tools, child.Tools);
        return wider is null ? null : new Failure(ReasonCodes.Escalation, $"the delegated grant is wider than its parent: {wider}");
    }

    /// <summary>
    /// Isolation at least as strict as the parent's (contract order: sandboxed, native, external), and more: an
    /// <c>external</c> parent runs nothing in the cluster, so a delegation from it may not either. The contract's order
    /// alone would let it hand a child the right to run code on the silo that it never had itself.
    /// </summary>
    private static string? WiderIsolation(IsolationLevel parent, IsolationLevel child) =>
        child > parent ? $"environmentIsolation \"{CapabilityNames.Name(child)}\" is looser than the parent's \"{CapabilityNames.Name(parent)}\""
        : parent == IsolationLevel.External && child != IsolationLevel.External ? $"environmentIsolation \"{CapabilityNames.Name(child)}\" runs code in the cluster, which the parent's \"external\" does not"
        : null;

    /// <summary>
    /// An answer to a permission request grants what was asked and nothing more: the smallest capabilities for the
    /// requested check and, when a resource was named, scopes that cover only that resource.
    /// </summary>
    public static Failure? WithinRequest(CheckKind kind, string? resource, GrantTerms grant)
    {
        var wider = WiderCapability(kind.MinimalCapabilities(), grant.Capabilities) ?? WiderToolAnswer(kind, resource, grant.Tools);
        if (kind == CheckKind.ToolCall)
        {
            return wider is null ? null : new Failure(ReasonCodes.Escalation, $"the answer grants more than was requested: {wider}");
        }

        if (wider is null && resource is not null && kind.ResourceKindOf() is { } resourceKind)
        {
            var member = resourceKind switch { ResourceKind.Path => "fileSystem", ResourceKind.Host => "network", _ => "memory" };
            var patterns = resourceKind switch { ResourceKind.Path => grant.Scopes.FileSystem, ResourceKind.Host => grant.Scopes.Network, _ => grant.Scopes.Memory };
            var exact = resourceKind == ResourceKind.Host && ResourceNames.TryParseHost(resource, out var host, out var port)
                ? $"{host}:{port.ToString(System.Globalization.CultureInfo.InvariantCulture)}"
                : resource;
            wider = WiderScopes(member, [exact], patterns, resourceKind)?.Replace("the parent", "the request", StringComparison.Ordinal);
        }

        return wider is null ? null : new Failure(ReasonCodes.Escalation, $"the answer grants more than was requested: {wider}");
    }

    /// <summary>
    /// An admin's ceiling bounds levels, booleans and limits, compared as the platform applies them: where the ceiling
    /// sets no limit, the admin's grants get at most the platform's default.
    /// </summary>
    public static Failure? WithinCeiling(CapabilitySet ceiling, ResourceLimits ceilingLimits, GrantTerms grant, PlatformLimits platform) =>
        WithinCeiling(ceiling, ceilingLimits, [], grant, platform);

    /// <summary>
    /// <see cref="WithinCeiling(CapabilitySet, ResourceLimits, GrantTerms, PlatformLimits)"/>, and every tool pattern of
    /// the grant covered by one of the ceiling's (an admin registered by v1 has none, so signs no grant with tools).
    /// The ceiling says nothing of approvals and pins: an admin sets them as it sees fit.
    /// </summary>
    public static Failure? WithinCeiling(CapabilitySet ceiling, ResourceLimits ceilingLimits, IReadOnlyList<string> ceilingTools, GrantTerms grant, PlatformLimits platform)
    {
        var wider = WiderCapability(ceiling, grant.Capabilities)
            ?? WiderLimit(ceilingLimits, grant.Limits, platform, "the ceiling")
            ?? WiderTools("capabilities.tools", ceilingTools, grant.Tools.Patterns, "the ceiling's");
        return wider is null ? null : new Failure(ReasonCodes.Escalation, $"the grant exceeds the admin's ceiling: {wider}");
    }

    /// <summary>The first tool pattern of <paramref name="narrower"/> that no pattern of <paramref name="wider"/> covers.</summary>
    private static string? WiderTools(string member, IReadOnlyList<string> wider, IReadOnlyList<string> narrower, string whose)
    {
        foreach (var text in narrower)
        {
            var pattern = ToolPattern.Parse(text);
            if (!wider.Any(w => ToolPattern.Parse(w).Covers(pattern)))
            {
                return wider.Count == 0
                    ? $"{member} \"{text}\" gives a tool, {whose} gives none"
                    : $"{member} \"{text}\" is not covered by any of {whose} tool patterns";
            }
        }

        return null;
    }

    /// <summary>
    /// A child that gives tools keeps every approval and pin of its parent: each parent <c>approve</c> pattern covered by
    /// one of the child's (a wider one asks for approval more often), each parent pin present with the same hash. A
    /// child that gives no tool can call none, so what it says of them does not matter (a v1 child has no toolRules).
    /// </summary>
    private static string? DroppedToolRules(ToolTerms parent, ToolTerms child)
    {
        if (!child.GrantsAny)
        {
            return null;
        }

        var dropped = WiderTools("toolRules.approve", child.Approve, parent.Approve, "the child's");
        if (dropped is not null)
        {
            return $"{dropped}: a delegation keeps every approval of its parent";
        }

        foreach (var (tool, hash) in parent.Pins)
        {
            if (!child.Pins.TryGetValue(tool, out var kept) || !string.Equals(kept, hash, StringComparison.Ordinal))
            {
                return $"toolRules.pins does not pin \"{tool}\" to the parent's {hash}: a delegation keeps every pin of its parent";
            }
        }

        return null;
    }

    /// <summary>
    /// An answer to a request for <c>tool:call</c> names exactly that tool and no other (an elevation naming the tool is
    /// what an approval needs); an answer to any other request gives no tool.
    /// </summary>
    private static string? WiderToolAnswer(CheckKind kind, string? resource, ToolTerms tools)
    {
        if (kind != CheckKind.ToolCall)
        {
            return tools.GrantsAny ? $"capabilities.tools \"{tools.Patterns[0]}\" gives a tool, the request was for {kind.Name()}" : null;
        }

        if (resource is null)
        {
            return "a request for tool:call names its tool";
        }

        return tools.Patterns.Count == 0 ? $"capabilities.tools does not name {resource}"
            : tools.Patterns.FirstOrDefault(p => !string.Equals(p, resource, StringComparison.Ordinal)) is { } other ? $"capabilities.tools \"{other}\" is not the requested tool {resource}"
            : null;
    }

    /// <summary>The first capability where <paramref name="narrower"/> gives more than <paramref name="wider"/>.</summary>
    public static string? WiderCapability(CapabilitySet wider, CapabilitySet narrower)
    {
        if (narrower.FileSystem > wider.FileSystem)
        {
            return Level("fileSystem", CapabilityNames.Name(narrower.FileSystem), CapabilityNames.Name(wider.FileSystem));
        }

        if ((narrower.Network & ~wider.Network) != 0)
        {
            return Level("network", CapabilityNames.Name(narrower.Network), CapabilityNames.Name(wider.Network));
        }

        if (narrower.Memory > wider.Memory)
        {
            return Level("memory", CapabilityNames.Name(narrower.Memory), CapabilityNames.Name(wider.Memory));
        }

        return narrower.Subprocess && !wider.Subprocess ? "subprocess is true"
            : narrower.VectorDb && !wider.VectorDb ? "vectorDb is true"
            : narrower.Llm && !wider.Llm ? "llm is true"
            : null;

        static string Level(string member, string got, string bound) => $"{member} \"{got}\" is above \"{bound}\"";
    }

    /// <summary>
    /// No limit in force for the narrower side above the one in force for the wider side; absent means the platform's
    /// default (unlimited only where the platform has none).
    /// </summary>
    private static string? WiderLimit(ResourceLimits wider, ResourceLimits narrower, PlatformLimits platform, string whose)
    {
        foreach (var name in ResourceLimits.Names)
        {
            if (platform.Effective(name, wider.Get(name)) is not { } bound)
            {
                continue;
            }

            var value = platform.Effective(name, narrower.Get(name));
            if (value <= bound)
            {
                continue;
            }

            var said = narrower.Get(name) is { } v ? $"{v}" : value is null ? "is absent (unlimited)," : $"is absent (the platform's default, {value}),";
            var limit = wider.Get(name) is not null ? $"{whose}'s {bound}" : $"{bound}, the platform's default that {whose} leaves in place";
            return narrower.Get(name) is null ? $"resourceLimits.{name} {said} above {limit}" : $"resourceLimits.{name} {said} is above {limit}";
        }

        return null;
    }

    /// <summary>Whether a scope list (null: no list, everything) covers every resource a pattern matches, decided soundly.</summary>
    public static bool ScopesCover(IReadOnlyList<string>? scopes, string pattern, ResourceKind kind) =>
        WiderScopes("scopes", scopes, [pattern], kind) is null;

    private static string? WiderScopes(string member, IReadOnlyList<string>? wider, IReadOnlyList<string>? narrower, ResourceKind kind)
    {
        if (wider is null)
        {
            // Not scoped: any narrower scope is within it, but for an internal host, which a grant without network scopes
            // (the internet) does not reach, and a pattern that names one does.
            return kind == ResourceKind.Host && narrower?.FirstOrDefault(NamesInternalHost) is { } inside
                ? $"scopes.{member} \"{inside}\" names an internal address, which the parent, with no {member} scopes (the internet), does not reach"
                : null;
        }

        if (narrower is null)
        {
            return $"scopes.{member} is absent (any resource), the parent allows only its patterns";
        }

        foreach (var pattern in narrower)
        {
            if (!wider.Any(w => Covers(w, pattern, kind)))
            {
                return kind == ResourceKind.Host && NamesInternalHost(pattern)
                    ? $"scopes.{member} \"{pattern}\" names an internal address that none of the parent's patterns names (a wildcard does not reach one)"
                    : $"scopes.{member} \"{pattern}\" is not covered by any of the parent's patterns";
            }
        }

        return null;
    }

    private static bool NamesInternalHost(string pattern) => HostPattern.TryParse(pattern, out var parsed) && parsed.NamesInternalHost;

    private static bool Covers(string wider, string narrower, ResourceKind kind) => kind == ResourceKind.Host
        ? HostPattern.TryParse(wider, out var w) && HostPattern.TryParse(narrower, out var n) && w.Covers(n)
        : PathPattern.TryParse(wider, kind, out var wp) && PathPattern.TryParse(narrower, kind, out var np) && wp.Covers(np);
}

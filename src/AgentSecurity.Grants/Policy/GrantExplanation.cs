using System.Globalization;
using AgentSecurity.Grants.Capabilities;
using AgentSecurity.Grants.Documents;

namespace AgentSecurity.Grants.Policy;

/// <summary>
/// Why a grant decided as it did: the member of the grant that decided, and for a denial the smallest change to the
/// grant (or the request) that would allow it.
/// </summary>
public sealed record GrantExplanation(PolicyDecision Decision, string DecidedBy, string? Suggestion)
{
    /// <summary>Decides with <see cref="GrantPolicy.Decide(string, string?, DateTimeOffset, string?)"/> and explains the decision.</summary>
    public static GrantExplanation For(GrantPolicy policy, string capability, string? resource, DateTimeOffset now, string? definitionHash = null) =>
        For(policy, policy.Decide(capability, resource, now, definitionHash), capability, resource, now);

    /// <summary>Explains a decision the policy made, from the rule it reports; nothing is decided twice.</summary>
    public static GrantExplanation For(GrantPolicy policy, PolicyDecision decision, string capability, string? resource, DateTimeOffset now)
    {
        _ = CheckKinds.TryParse(capability, out var kind); // unknown capabilities are explained by their rule, not their kind
        var member = capability.Split(':')[0];
        if (kind == CheckKind.ToolCall && decision.Rule is DecisionRule.Level or DecisionRule.Scope or DecisionRule.Approval or DecisionRule.Pin)
        {
            return ForTool(decision, resource);
        }

        return decision.Rule switch
        {
            DecisionRule.Capability => new(decision, "request.capability", $"ask for one of: {string.Join(", ", CheckKinds.Names)}"),
            DecisionRule.Resource => new(decision, "request.resource", "write the resource in normal form: no '..' or '.' segments, no '//', controls, '%' escapes or '\\'"),
            DecisionRule.NotBefore => new(decision, "notBefore", $"wait until {DocumentTime.ToText(policy.NotBefore - policy.ClockSkew)}, or sign a grant with notBefore at or before {DocumentTime.ToText(DocumentTime.WholeSeconds(now))}"),
            DecisionRule.ExpiresAt => new(decision, "expiresAt", $"sign a new grant with expiresAt after {DocumentTime.ToText(DocumentTime.WholeSeconds(now))}"),
            DecisionRule.Level when decision.Allowed => new(decision, $"capabilities.{member}", null),
            DecisionRule.Level => new(decision, $"capabilities.{member}", $"set capabilities.{member} to {Needed(policy.Capabilities, kind)}"),
            DecisionRule.Scope when decision.Allowed => new(decision, $"scopes.{member} \"{decision.MatchedPattern}\"", null),
            _ => new(decision, $"scopes.{member}", resource is null
                ? $"name a resource: {member} is scoped"
                : $"add \"{AsPattern(kind, resource)}\" to scopes.{member}"),
        };
    }

    /// <summary>A tool call is decided by the grant's tool patterns, then its pins, then its approvals.</summary>
    private static GrantExplanation ForTool(PolicyDecision decision, string? tool) => decision.Rule switch
    {
        DecisionRule.Scope when decision.Allowed => new(decision, $"capabilities.tools \"{decision.MatchedPattern}\"", null),
        DecisionRule.Level => new(decision, "capabilities.tools", $"sign a grant v2 whose capabilities.tools holds \"{tool ?? "server/tool"}\""),
        DecisionRule.Scope => new(decision, "capabilities.tools", tool is null ? "name the tool: server/tool" : $"add \"{tool}\" to capabilities.tools"),
        DecisionRule.Approval => new(decision, $"toolRules.approve \"{decision.MatchedPattern}\"",
            $"ask for approval (a permission request for tool:call {tool}); a root or admin answers it with a grant naming {tool}"),
        _ => new(decision, $"toolRules.pins \"{decision.MatchedPattern}\"",
            "review the tool's definition; if it is what you meant, pin its new hash (agentsec mcp pins) in a new grant"),
    };

    /// <summary>The smallest value of the capability's member that grants the check.</summary>
    private static string Needed(CapabilitySet current, CheckKind kind) => kind switch
    {
        CheckKind.FileSystemRead or CheckKind.MemoryRead => "\"read\"",
        CheckKind.FileSystemWrite or CheckKind.MemoryWrite => "\"write\"",
        CheckKind.FileSystemDelete or CheckKind.MemoryDelete => "\"full\"",
        CheckKind.NetworkOutbound => current.Network == NetworkAccess.Inbound ? "\"full\"" : "\"outbound\"",
        CheckKind.NetworkInbound => current.Network == NetworkAccess.Outbound ? "\"full\"" : "\"inbound\"",
        _ => "true",
    };

    /// <summary>The resource itself as a pattern: the narrowest scope that covers it.</summary>
    private static string AsPattern(CheckKind kind, string resource) =>
        kind.ResourceKindOf() == ResourceKind.Host && ResourceNames.TryParseHost(resource, out var host, out var port)
            ? $"{host}:{port.ToString(CultureInfo.InvariantCulture)}"
            : resource;
}

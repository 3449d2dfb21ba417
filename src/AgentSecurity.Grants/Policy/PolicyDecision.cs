namespace AgentSecurity.Grants.Policy;

/// <summary>Which rule of a grant decided a request.</summary>
public enum DecisionRule
{
    /// <summary>The request names no known capability.</summary>
    Capability,

    /// <summary>The request's resource is not in normal form.</summary>
    Resource,

    NotBefore,

    ExpiresAt,

    /// <summary>The capability's level or boolean.</summary>
    Level,

    /// <summary>The capability's scope list; for a tool, <c>capabilities.tools</c>.</summary>
    Scope,

    /// <summary>A tool that matches <c>toolRules.approve</c>: allowed only under an elevation naming it.</summary>
    Approval,

    /// <summary>A tool whose definition is pinned in <c>toolRules.pins</c>.</summary>
    Pin,
}

/// <summary>
/// What a grant says about one request: allowed or not, a reason code, a message for people, and which rule
/// decided (for explanations, at no cost to the check).
/// </summary>
public readonly record struct PolicyDecision(bool Allowed, string Reason, string Message, DecisionRule Rule, string? MatchedPattern = null)
{
    public static PolicyDecision Allow(DecisionRule rule, string? matchedPattern) =>
        new(true, ReasonCodes.Allowed, "allowed by the grant", rule, matchedPattern);

    public static PolicyDecision Deny(string reason, string message, DecisionRule rule) => new(false, reason, message, rule);
}

using AgentSecurity.Abstractions;

namespace AgentSecurity.AI.Guard;

/// <summary>How a refusal reads to the model and to the platform: the reason code first, so both can match on it.</summary>
public static class Refusals
{
    /// <summary>The key under which a refused response, update or approval request carries its reason code.</summary>
    public const string ReasonProperty = "agentsec.reason";

    /// <summary>The key under which an approval request carries the kernel's permission request id.</summary>
    public const string RequestIdProperty = "agentsec.requestId";

    /// <summary><c>reason: message</c>, e.g. <c>out_of_scope: /etc/passwd is outside the grant's scopes</c>.</summary>
    public static string Text(Decision decision)
    {
        ArgumentNullException.ThrowIfNull(decision);
        return $"{decision.Reason}: {decision.Message}";
    }
}

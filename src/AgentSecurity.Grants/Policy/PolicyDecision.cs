namespace AgentSecurity.Grants.Policy;

/// <summary>What a grant says about one request: allowed or not, a reason code and a message for people.</summary>
public readonly record struct PolicyDecision(bool Allowed, string Reason, string Message)
{
    public static readonly PolicyDecision Allow = new(true, ReasonCodes.Allowed, "allowed by the grant");

    public static PolicyDecision Deny(string reason, string message) => new(false, reason, message);
}

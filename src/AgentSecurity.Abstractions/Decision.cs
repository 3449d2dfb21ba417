using AgentSecurity.Grants;

namespace AgentSecurity.Abstractions;

/// <summary>The answer to a check: <c>{allowed, reason, message, grantId, remaining}</c>.</summary>
[GenerateSerializer, Immutable, Alias("agentsec.Decision.v1")]
public sealed record Decision
{
    [Id(0)] public bool Allowed { get; init; }

    /// <summary>A stable code from <see cref="ReasonCodes"/>: <c>allowed</c> or why not.</summary>
    [Id(1)] public required string Reason { get; init; }

    [Id(2)] public required string Message { get; init; }

    /// <summary>The grant that decided, when there is one.</summary>
    [Id(3)] public string? GrantId { get; init; }

    /// <summary>What is left of the tightest quota the request was metered against, when one applies.</summary>
    [Id(4)] public long? Remaining { get; init; }

    public static Decision Deny(string reason, string message, string? grantId = null) =>
        new() { Allowed = false, Reason = reason, Message = message, GrantId = grantId };
}

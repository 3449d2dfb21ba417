using AgentSecurity.Abstractions.Wire;
using AgentSecurity.Grants;

namespace AgentSecurity.Abstractions;

/// <summary>The answer to a check: <c>{allowed, reason, message, grantId, remaining}</c>.</summary>
[GenerateSerializer, Immutable, Alias("agentsec.Decision.v1")]
public sealed record Decision
{
    /// <summary>The message of a check the active grant allows, the answer to nearly every check.</summary>
    public const string AllowedByTheGrant = "allowed by the grant";

    // The reason and the message travel as codes of their vocabularies when they have one, else as their text (Id 1
    // and 2, where their text always was): see WireVocabulary.
    [Id(1)] private readonly string? _reasonText;
    [Id(5)] private readonly byte _reasonCode;
    [Id(2)] private readonly string? _messageText;
    [Id(6)] private readonly byte _messageCode;

    [Id(0)] public bool Allowed { get; init; }

    /// <summary>A stable code from <see cref="ReasonCodes"/>: <c>allowed</c> or why not.</summary>
    public required string Reason
    {
        // A code this version does not know (from a newer peer) reads as no reason; Allowed still says what was decided.
        get => _reasonText ?? WireVocabulary.Reasons.TextOf(_reasonCode) ?? string.Empty;
        init => (_reasonCode, _reasonText) = WireVocabulary.Reasons.Encode(value);
    }

    public required string Message
    {
        get => _messageText ?? WireVocabulary.Messages.TextOf(_messageCode) ?? string.Empty;
        init => (_messageCode, _messageText) = WireVocabulary.Messages.Encode(value);
    }

    /// <summary>The grant that decided, when there is one.</summary>
    [Id(3)] public string? GrantId { get; init; }

    /// <summary>What is left of the tightest quota the request was metered against, when one applies.</summary>
    [Id(4)] public long? Remaining { get; init; }

    public static Decision Deny(string reason, string message, string? grantId = null) =>
        new() { Allowed = false, Reason = reason, Message = message, GrantId = grantId };
}

namespace AgentSecurity.Abstractions.Tools;

/// <summary>The answer to a <see cref="ToolCall"/>: one decision for the tool and everything its arguments touch.</summary>
[GenerateSerializer, Immutable, Alias("agentsec.ToolCallDecision.v1")]
public sealed record ToolCallDecision
{
    [Id(0)] public required Decision Decision { get; init; }

    /// <summary>The resource check that refused the call, when the tool itself was allowed but an argument was not.</summary>
    [Id(1)] public CheckRequest? RefusedBy { get; init; }

    /// <summary>For <c>approval_required</c>: the permission request that waits for a person's answer.</summary>
    [Id(2)] public string? RequestId { get; init; }

    public bool Allowed => Decision.Allowed;
}

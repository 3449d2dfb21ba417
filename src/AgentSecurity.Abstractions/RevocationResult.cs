namespace AgentSecurity.Abstractions;

[GenerateSerializer, Immutable, Alias("agentsec.RevocationResult.v1")]
public sealed record RevocationResult : IOutcome
{
    bool IOutcome.Succeeded => Revoked;

    [Id(0)] public bool Revoked { get; init; }

    /// <summary>The revoked grant and every grant delegated from it.</summary>
    [Id(1)] public IReadOnlyList<string> GrantIds { get; init; } = [];

    /// <summary>The agents (<c>tenant/agent</c>) that were told before the answer.</summary>
    [Id(2)] public IReadOnlyList<string> Agents { get; init; } = [];

    /// <summary>
    /// False when the revocation is recorded but an agent could not be told (it then learns when it next activates);
    /// repeat the revocation to retry.
    /// </summary>
    [Id(3)] public bool Propagated { get; init; }

    [Id(4)] public string? Error { get; init; }

    [Id(5)] public string? Message { get; init; }
}

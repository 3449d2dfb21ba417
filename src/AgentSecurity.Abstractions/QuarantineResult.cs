namespace AgentSecurity.Abstractions;

[GenerateSerializer, Immutable, Alias("agentsec.QuarantineResult.v1")]
public sealed record QuarantineResult : IOutcome
{
    bool IOutcome.Succeeded => Accepted;

    [Id(0)] public bool Accepted { get; init; }

    /// <summary><c>tenant/agent</c>.</summary>
    [Id(1)] public required string Agent { get; init; }

    [Id(2)] public AgentState State { get; init; }

    [Id(3)] public string? Error { get; init; }

    [Id(4)] public string? Message { get; init; }
}

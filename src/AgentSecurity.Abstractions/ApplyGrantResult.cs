namespace AgentSecurity.Abstractions;

/// <summary>The outcome of applying a grant: applied with the agent's new grant version, or refused with a code.</summary>
[GenerateSerializer, Immutable, Alias("agentsec.ApplyGrantResult.v1")]
public sealed record ApplyGrantResult : IOutcome
{
    bool IOutcome.Succeeded => Applied;

    [Id(0)] public bool Applied { get; init; }

    /// <summary><c>tenant/agent</c>.</summary>
    [Id(1)] public required string Agent { get; init; }

    [Id(2)] public string? GrantId { get; init; }

    /// <summary>Counts installed grants; unchanged by an idempotent re-apply.</summary>
    [Id(3)] public long Version { get; init; }

    /// <summary>True when this exact grant was already active and nothing changed.</summary>
    [Id(4)] public bool Unchanged { get; init; }

    /// <summary>The reason code when refused.</summary>
    [Id(5)] public string? Error { get; init; }

    [Id(6)] public string? Message { get; init; }

    public static ApplyGrantResult Refused(string agent, string error, string message, string? grantId = null) =>
        new() { Applied = false, Agent = agent, Error = error, Message = message, GrantId = grantId };
}

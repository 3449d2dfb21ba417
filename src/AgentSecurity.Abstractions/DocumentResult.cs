namespace AgentSecurity.Abstractions;

/// <summary>The outcome of applying an administrative document (admin registration, root rotation).</summary>
[GenerateSerializer, Immutable, Alias("agentsec.DocumentResult.v1")]
public sealed record DocumentResult : IOutcome
{
    bool IOutcome.Succeeded => Accepted;

    [Id(0)] public bool Accepted { get; init; }

    /// <summary>True when this exact document had already been applied.</summary>
    [Id(1)] public bool Unchanged { get; init; }

    [Id(2)] public string? Error { get; init; }

    [Id(3)] public string? Message { get; init; }

    public static DocumentResult Refuse(string error, string message) => new() { Error = error, Message = message };
}

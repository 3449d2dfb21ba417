namespace AgentSecurity.Abstractions;

/// <summary>A decision with the part of the grant (or agent state) that decided it and, for a denial, the smallest change that would allow it.</summary>
[GenerateSerializer, Immutable, Alias("agentsec.Explanation.v1")]
public sealed record Explanation
{
    [Id(0)] public required Decision Decision { get; init; }

    /// <summary>What decided: <c>capabilities.fileSystem</c>, <c>scopes.network "*.example.com:443"</c>, <c>expiresAt</c>, <c>agent.state</c>, ...</summary>
    [Id(1)] public required string DecidedBy { get; init; }

    /// <summary>For a denial, the smallest change to the grant (or the request or agent) that would allow it.</summary>
    [Id(2)] public string? Suggestion { get; init; }
}

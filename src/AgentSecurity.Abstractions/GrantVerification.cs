namespace AgentSecurity.Abstractions;

/// <summary>The issuer's verdict on a grant.</summary>
[GenerateSerializer, Immutable, Alias("agentsec.GrantVerification.v1")]
public sealed record GrantVerification : IOutcome
{
    bool IOutcome.Succeeded => Accepted;

    [Id(0)] public bool Accepted { get; init; }

    [Id(1)] public string? Error { get; init; }

    [Id(2)] public string? Message { get; init; }

    public static readonly GrantVerification Accept = new() { Accepted = true };

    public static GrantVerification Refuse(string error, string message) => new() { Accepted = false, Error = error, Message = message };
}

namespace AgentSecurity.Abstractions;

/// <summary>
/// What an agent wants to do: a capability (<c>fileSystem:write</c>), optionally the resource it acts on
/// (<c>/workspace/out.txt</c>, <c>api.example.com:443</c>, <c>notes/today</c>) and an amount (bytes, tokens).
/// </summary>
[GenerateSerializer, Immutable, Alias("agentsec.CheckRequest.v1")]
public sealed record CheckRequest
{
    public CheckRequest(string capability, string? resource = null, long? amount = null)
    {
        Capability = capability;
        Resource = resource;
        Amount = amount;
    }

    [Id(0)] public string Capability { get; init; }

    [Id(1)] public string? Resource { get; init; }

    [Id(2)] public long? Amount { get; init; }

    /// <summary>
    /// For <c>tool:call</c>: the hash of the tool's definition as its server describes it now (<c>sha256:…</c>), held
    /// against the grant's pin. A pinned tool checked without it is refused (<c>tool_changed</c>).
    /// </summary>
    [Id(3)] public string? DefinitionHash { get; init; }
}

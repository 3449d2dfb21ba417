using AgentSecurity.Abstractions.Wire;

namespace AgentSecurity.Abstractions;

/// <summary>
/// What an agent wants to do: a capability (<c>fileSystem:write</c>), optionally the resource it acts on
/// (<c>/workspace/out.txt</c>, <c>api.example.com:443</c>, <c>notes/today</c>) and an amount (bytes, tokens).
/// </summary>
[GenerateSerializer, Immutable, Alias("agentsec.CheckRequest.v1")]
public sealed record CheckRequest
{
    // The capability travels as its code in WireVocabulary.Capabilities when it has one, else as its text (Id 0, where
    // its text always was).
    [Id(0)] private readonly string? _capabilityText;
    [Id(4)] private readonly byte _capabilityCode;

    public CheckRequest(string capability, string? resource = null, long? amount = null)
    {
        Capability = capability;
        Resource = resource;
        Amount = amount;
    }

    /// <summary>The capability; empty (so unknown, decided as such) for a code this version does not know.</summary>
    public string Capability
    {
        get => _capabilityText ?? WireVocabulary.Capabilities.TextOf(_capabilityCode) ?? string.Empty;
        init => (_capabilityCode, _capabilityText) = WireVocabulary.Capabilities.Encode(value);
    }

    [Id(1)] public string? Resource { get; init; }

    [Id(2)] public long? Amount { get; init; }

    /// <summary>
    /// For <c>tool:call</c>: the hash of the tool's definition as its server describes it now (<c>sha256:…</c>), held
    /// against the grant's pin. A pinned tool checked without it is refused (<c>tool_changed</c>).
    /// </summary>
    [Id(3)] public string? DefinitionHash { get; init; }
}

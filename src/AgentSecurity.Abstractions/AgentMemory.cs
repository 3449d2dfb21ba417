namespace AgentSecurity.Abstractions;

/// <summary>
/// The answer of an agent memory operation: the decision that allowed or denied it and, when allowed, the value or
/// keys. There is no agent parameter anywhere: an agent grain serves only its own memory.
/// </summary>
[GenerateSerializer, Immutable, Alias("agentsec.MemoryResult.v1")]
public sealed record MemoryResult
{
    [Id(0)] public required Decision Decision { get; init; }

    /// <summary>The value read (<c>Get</c>), or null when the key is absent or the operation was not a read.</summary>
    [Id(1)] public byte[]? Value { get; init; }

    /// <summary>The keys listed (<c>List</c>): only those the grant lets the agent read.</summary>
    [Id(2)] public IReadOnlyList<string>? Keys { get; init; }

    /// <summary>Bytes (keys and values) the agent stores after the operation.</summary>
    [Id(3)] public long StoredBytes { get; init; }

    /// <summary>True when a Get or Delete found the key.</summary>
    [Id(4)] public bool Found { get; init; }
}

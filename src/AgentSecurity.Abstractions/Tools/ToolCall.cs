namespace AgentSecurity.Abstractions.Tools;

/// <summary>
/// A tool call a gateway is about to forward: the exact tool (<c>server/tool</c>), the hash of the definition it was
/// offered under, and the checks its arguments map to (a file server's <c>path</c> is a <c>fileSystem</c> check).
/// </summary>
[GenerateSerializer, Immutable, Alias("agentsec.ToolCall.v1")]
public sealed record ToolCall
{
    /// <summary>At most this many resource checks per call: a gateway's argument map names a handful.</summary>
    public const int MaxResources = 64;

    [Id(0)] public required string Tool { get; init; }

    /// <summary>The definition's hash now (<c>sha256:…</c>); required for a pinned tool.</summary>
    [Id(1)] public string? DefinitionHash { get; init; }

    /// <summary>The checks the call's arguments map to; each must be allowed too.</summary>
    [Id(2)] public IReadOnlyList<CheckRequest> Resources { get; init; } = [];
}

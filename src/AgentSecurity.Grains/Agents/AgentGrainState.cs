using AgentSecurity.Abstractions;

namespace AgentSecurity.Grains.Agents;

/// <summary>What an agent grain persists. The grant is kept as the signed document itself and re-verified on load.</summary>
[GenerateSerializer, Alias("agentsec.AgentGrainState.v1")]
public sealed class AgentGrainState
{
    /// <summary>The active grant's canonical signed text; null when the agent has never had one.</summary>
    [Id(0)] public string? GrantDocument { get; set; }

    [Id(1)] public long Version { get; set; }

    [Id(2)] public AgentState State { get; set; }

    /// <summary>Ids of previously active grants, newest first, at most <see cref="AgentSecurityOptions.GrantHistoryLength"/>.</summary>
    [Id(3)] public List<string> PreviousGrantIds { get; set; } = [];
}

using AgentSecurity.Grains.Execution;

namespace AgentSecurity.Grains.Agents;

/// <summary>
/// The agent's parts that exist only once used, as the parts made at activation reach them. The grain implements it, so
/// that a part holds the grain rather than a delegate or a part that may never be made: bytes per active agent count.
/// </summary>
internal interface IAgentParts
{
    /// <summary>
    /// The agent's executions, or null when this activation has run no code: then nothing runs and no host call is on
    /// the local path, so there is nothing to stop or review.
    /// </summary>
    AgentExecutions? ExecutionsIfAny { get; }
}

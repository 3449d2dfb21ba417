using AgentSecurity.Abstractions;

namespace AgentSecurity.Grains.Agents;

/// <summary>
/// The agent's decision path, as its parts call it. The grain implements it, so that its parts hold the grain rather
/// than a delegate each: bytes per active agent count.
/// </summary>
internal interface IAgentDecisions
{
    /// <summary>Decides, meters and records a request (see <see cref="AgentGrain"/>).</summary>
    Task<Decision> DecideAsync(CheckRequest request);

    /// <summary>Decides and meters a request; the caller records it.</summary>
    ValueTask<Decision> DecideAndMeterAsync(CheckRequest request, DateTimeOffset now);
}

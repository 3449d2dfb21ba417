namespace AgentSecurity.Abstractions;

/// <summary>
/// One agent (key <c>tenant/agent</c>, see <see cref="AgentKey"/>): the only owner of its grant and status, and the
/// decision point for everything the agent attempts. No call throws for bad input; each answers with a reason code.
/// </summary>
public interface IAgentGrain : IGrainWithStringKey
{
    /// <summary>
    /// Verifies a signed <c>agentsec.grant.v1</c> through the tenant's issuer and, only if it verifies, makes it the
    /// agent's active grant. A refused grant changes nothing: the previous grant stays in force.
    /// </summary>
    Task<ApplyGrantResult> ApplyGrantAsync(string signedGrant);

    /// <summary>Decides one request from memory: status, time window, capability level, scope; default deny.</summary>
    Task<Decision> CheckAsync(CheckRequest request);

    Task<AgentStatus> GetStatusAsync();

    /// <summary>Does nothing: the cost of a call on the same grain, the baseline that check benchmarks compare against.</summary>
    Task PingAsync();
}

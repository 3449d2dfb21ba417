using AgentSecurity.Abstractions;
using AgentSecurity.Abstractions.Boundary;
using AgentSecurity.Grants;
using Microsoft.Extensions.Logging;

namespace AgentSecurity.Hosting.Http;

/// <summary>What became of one check made for an HTTP caller: the agent's decision, or the trust boundary's refusal.</summary>
internal readonly record struct CheckOutcome(Decision Decision, bool RefusedByBoundary)
{
    /// <summary>The boundary refused the call (<c>forbidden</c>, <c>unauthenticated</c>): it never reached the agent.</summary>
    public Failure Refusal => new(Decision.Reason, Decision.Message);
}

/// <summary>
/// Decides AuthZEN evaluations: each is the agent grain's <see cref="IAgentGrain.CheckAsync"/>, called with the HTTP
/// caller's session, so that the trust boundary decides whether this caller may check this agent exactly as it does for a
/// .NET client, and the agent decides, meters and audits the check as any other. Fails closed: a check that could not be
/// made is denied with <c>unavailable</c>, never allowed.
/// </summary>
internal sealed class AgentChecks(IGrainFactory grains, ILogger<AgentChecks> logger)
{
    public async Task<CheckOutcome> CheckAsync(HttpCaller caller, AuthZenEvaluation evaluation)
    {
        var agent = grains.GetGrain<IAgentGrain>(AgentKey.Of(evaluation.TenantId, evaluation.AgentId));
        try
        {
            using (CallerSession.Enter(caller))
            {
                var decision = await agent.CheckAsync(evaluation.Check);
                return new CheckOutcome(decision ?? Decision.Deny(ReasonCodes.Unavailable, "the agent gave no decision"), false);
            }
        }
        catch (CallRefusedException e) when (e.Code is ReasonCodes.Forbidden or ReasonCodes.Unauthenticated)
        {
            return new CheckOutcome(Decision.Deny(e.Code, e.Message), true);
        }
        catch (CallRefusedException e)
        {
            // The boundary could not decide (who may call was unreadable): denied, as the kernel denies what it cannot decide.
            return new CheckOutcome(Decision.Deny(ReasonCodes.Unavailable, e.Message), false);
        }
#pragma warning disable CA1031 // Whatever failed, the answer is a denial with a code, never an allow and never a crash.
        catch (Exception e)
#pragma warning restore CA1031
        {
            HttpLog.CheckFailed(logger, e, evaluation.TenantId, evaluation.AgentId);
            return new CheckOutcome(Decision.Deny(ReasonCodes.Unavailable, "the agent could not be asked now; try again"), false);
        }
    }
}

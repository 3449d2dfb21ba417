using AgentSecurity.Abstractions;
using AgentSecurity.Abstractions.Boundary;
using AgentSecurity.Grains.Agents;
using AgentSecurity.Grains.Telemetry;
using AgentSecurity.Grants;
using Microsoft.Extensions.Logging;

namespace AgentSecurity.Grains.Boundary;

/// <summary>
/// The trust boundary: every call that reaches a grain of this silo either carries the kernel's token (a call of the
/// kernel's own grains, see <see cref="KernelToken"/>) or comes from a client, which must prove a principal with a
/// session and hold the right the method requires over the tenant or agent the grain is. Methods only the kernel may call
/// are refused to clients whatever their session. A refused call changes nothing: it never reaches the grain.
/// </summary>
internal sealed class BoundaryFilter(KernelToken kernel, CallRules rules, SessionCache sessions, CallAuthorizer authorizer, AgentSecurityMetrics metrics, ILogger<BoundaryFilter> logger)
    : IIncomingGrainCallFilter
{
    public Task Invoke(IIncomingGrainCallContext context)
    {
        if (kernel.Matches(RequestContext.Get(CallerContext.KernelKey)))
        {
            return context.Invoke();
        }

        var rule = rules.For(context.InterfaceMethod);
        switch (rule.Kind)
        {
            case CallRuleKind.Infrastructure:
                return context.Invoke();
            case CallRuleKind.Sealed:
                return Refuse(new Failure(ReasonCodes.Forbidden, $"{rule.Method} is the kernel's own: no client may call it"), rule);
        }

        var authenticated = sessions.Authenticate(RequestContext.Get(CallerContext.SessionKey) as string);
        if (!authenticated.TryGetValue(out var principal, out var unauthenticated))
        {
            return Refuse(unauthenticated, rule);
        }

        if (!TryTarget(context, rule, out var tenant, out var agent) && !authorizer.IsOperator(principal))
        {
            return Refuse(new Failure(ReasonCodes.Forbidden, $"{context.TargetId} names no tenant or agent"), rule);
        }

        var agentDid = rule.Scope == CallScope.Agent && context.TargetContext.GrainInstance is AgentGrain target ? target.AgentDid : null;
        var decision = authorizer.AuthorizeAsync(principal, rule.Right, rule.Scope, tenant, agent, agentDid);
        return decision.IsCompletedSuccessfully ? Proceed(decision.Result) : ProceedAsync(decision);

        Task Proceed(Failure? refusal)
        {
            if (refusal is not null)
            {
                return Refuse(refusal, rule);
            }

            RequestContext.Set(CallerContext.PrincipalKey, principal);
            return context.Invoke();
        }

        async Task ProceedAsync(ValueTask<Failure?> pending) => await Proceed(await pending);
    }

    /// <summary>The tenant and agent a grain is, from its key: <c>tenant/agent</c> for agents, <c>tenant</c> for the rest.</summary>
    private static bool TryTarget(IIncomingGrainCallContext context, CallRule rule, out string? tenant, out string? agent)
    {
        tenant = agent = null;
        var key = context.TargetId.Key.ToString();
        switch (rule.Scope)
        {
            case CallScope.AllTenants:
                return true;
            case CallScope.Agent:
                var valid = AgentKey.TryParse(key, out var t, out var a);
                (tenant, agent) = (t, a);
                return valid;
            default:
                tenant = key;
                return Grants.Documents.Identifiers.IsTenantId(key);
        }
    }

    private Task Refuse(Failure failure, CallRule rule)
    {
        metrics.RecordCallRefused(failure.Code);
        Log.CallRefused(logger, rule.Method, failure.Code, failure.Message);
        return Task.FromException(new CallRefusedException(failure.Code, $"{failure.Code}: {failure.Message}"));
    }
}

using AgentSecurity.Abstractions;
using AgentSecurity.Abstractions.Audit;
using AgentSecurity.Abstractions.Boundary;
using AgentSecurity.Grains.Agents;
using AgentSecurity.Grains.Telemetry;
using AgentSecurity.Grants;
using Microsoft.Extensions.Logging;

namespace AgentSecurity.Grains.Boundary;

/// <summary>
/// The trust boundary: every call that reaches a grain of the kernel (or of Orleans) on this silo either carries the
/// kernel's token (a call of the kernel's own grains, see <see cref="KernelToken"/>) or comes from a client, which must
/// prove a principal with a session and hold the right the method requires over the tenant or agent the grain is. The
/// grains of a platform that hosts the kernel in its silo are the platform's: calls to them pass. Methods only the kernel may call
/// are refused to clients whatever their session. A refused call changes nothing: it never reaches the grain.
/// </summary>
internal sealed class BoundaryFilter(
    KernelToken kernel, CallRules rules, SessionCache sessions, CallAuthorizer authorizer, InterleavingGuard interleaving, AgentSecurityMetrics metrics, ILogger<BoundaryFilter> logger)
    : IIncomingGrainCallFilter
{
    public Task Invoke(IIncomingGrainCallContext context)
    {
        // A grain of the platform that hosts the kernel in its silo is the platform's to guard. Neither the kernel's token
        // nor a principal the boundary did not prove reaches it: it could pass the token on (a stream message carries the
        // request context), and a principal it read there would be whatever the caller claimed.
        if (GrainOwners.Of(context.TargetContext.GrainInstance) is GrainOwner.Host)
        {
            RequestContext.Remove(CallerContext.KernelKey);
            RequestContext.Remove(CallerContext.PrincipalKey);
            return context.Invoke();
        }

        var kernelCall = kernel.Matches(RequestContext.Get(CallerContext.KernelKey));

        // Proven once, here: no code the call runs (a store, a provider, a stream it publishes on) holds the token after.
        RequestContext.Remove(CallerContext.KernelKey);
        if (kernelCall)
        {
            return StreamDelivery.IsForeign(context) is { } foreign
                ? Refuse(new Failure(ReasonCodes.Forbidden, $"stream {foreign} is not the kernel's: only {AuditStreams.ProviderName} delivers to the kernel's grains"), rules.For(context.InterfaceMethod))
                : context.Invoke();
        }

        // An observer this silo hosts for its own parts (its copy of who may call, a stream subscription, an event
        // endpoint). Calls to observers never carry the kernel's token, since a client's observer must not see it; the
        // observer's id holds a random 128-bit value that only the grains it was handed to know.
        var targetId = context.TargetId;
        if (GrainTypePrefix.IsClient(in targetId))
        {
            return context.Invoke();
        }

        var rule = rules.For(context.InterfaceMethod);
        switch (rule.Kind)
        {
            case CallRuleKind.Infrastructure:
                RequestContext.Remove(CallerContext.PrincipalKey);
                return ClientOwnIds.CancelsAnothersCall(context.InterfaceMethod, context.Request.GetArgumentCount() > 0 ? context.Request.GetArgument(0) : null, context.SourceId)
                    ? Refuse(new Failure(ReasonCodes.Forbidden, "a client may cancel only its own calls"), rule)
                    : context.Invoke();
            case CallRuleKind.Sealed:
                return Refuse(new Failure(ReasonCodes.Forbidden, $"{rule.Method} is the kernel's own: no client may call it"), rule);
        }

        if (rule.Observers is { } observers && ForeignObserver(context, observers) is { } named)
        {
            return Refuse(new Failure(ReasonCodes.Forbidden, $"{named} is not an observer of the caller's own: a client may be called back only on its own"), rule);
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
            if (rule.Interleaves)
            {
                return context.Invoke();
            }

            return interleaving.TryEnter(context.TargetContext) is { } running
                ? InvokeAloneAsync(context, running)
                : Refuse(new Failure(ReasonCodes.Forbidden, $"{rule.Method} does not interleave, yet it arrived while another call ran: its message claimed otherwise"), rule);
        }

        async Task ProceedAsync(ValueTask<Failure?> pending) => await Proceed(await pending);
    }

    private static async Task InvokeAloneAsync(IIncomingGrainCallContext context, System.Runtime.CompilerServices.StrongBox<int> running)
    {
        try
        {
            await context.Invoke();
        }
        finally
        {
            InterleavingGuard.Exit(running);
        }
    }

    /// <summary>The first reference argument that is not an observer of the calling client's own, if any (a null one too).</summary>
    private static string? ForeignObserver(IIncomingGrainCallContext context, int[] positions)
    {
        foreach (var position in positions)
        {
            if (context.Request.GetArgument(position) is not IAddressable reference)
            {
                return "(no reference)";
            }

            var named = reference.GetGrainId();
            if (!ClientOwnIds.IsOwnObserver(context.SourceId, named))
            {
                return named.ToString();
            }
        }

        return null;
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

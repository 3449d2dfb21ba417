using AgentSecurity.Abstractions.Boundary;

namespace AgentSecurity.Grains.Boundary;

/// <summary>
/// Puts the kernel's token on every call a silo makes to a grain. A call to a client (an event subscriber's observer)
/// carries neither the token nor the session or principal of the call that caused it: a subscriber would learn what
/// proves a kernel call, or another caller's session, and could replay either.
/// </summary>
internal sealed class KernelCallStamp(KernelToken token) : IOutgoingGrainCallFilter
{
    // Async so that the values removed for a client call stay removed for that call only: the calling flow keeps its own.
    public async Task Invoke(IOutgoingGrainCallContext context)
    {
        var target = context.TargetId;
        if (GrainTypePrefix.IsClient(in target))
        {
            RequestContext.Remove(CallerContext.KernelKey);
            RequestContext.Remove(CallerContext.SessionKey);
            RequestContext.Remove(CallerContext.PrincipalKey);
        }
        else
        {
            RequestContext.Set(CallerContext.KernelKey, token.Value);
        }

        await context.Invoke();
    }
}

using AgentSecurity.Abstractions.Boundary;

namespace AgentSecurity.Grains.Boundary;

/// <summary>Puts the kernel's token on every call a silo makes: grain to grain, sandbox host calls, streams, HTTP endpoints.</summary>
internal sealed class KernelCallStamp(KernelToken token) : IOutgoingGrainCallFilter
{
    public Task Invoke(IOutgoingGrainCallContext context)
    {
        RequestContext.Set(CallerContext.KernelKey, token.Value);
        return context.Invoke();
    }
}

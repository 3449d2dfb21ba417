using AgentSecurity.Abstractions.Boundary;

namespace AgentSecurity.Client.Sessions;

/// <summary>
/// Puts this client's session on every call it makes, unless the call already carries one (a service acting for another
/// principal sets its own, see <see cref="AgentSecurityClient.As"/>).
/// </summary>
internal sealed class SessionCallFilter(ClientSession session) : IOutgoingGrainCallFilter
{
    public Task Invoke(IOutgoingGrainCallContext context)
    {
        // A client never speaks for the kernel, whatever its flow picked up (a stream message's request context, say).
        RequestContext.Remove(CallerContext.KernelKey);
        if (RequestContext.Get(CallerContext.SessionKey) is not string)
        {
            RequestContext.Set(CallerContext.SessionKey, session.Current);
        }

        return context.Invoke();
    }
}

namespace AgentSecurity.Abstractions.Boundary;

/// <summary>The Orleans request-context values the trust boundary reads and writes.</summary>
public static class CallerContext
{
    /// <summary>The caller's signed <c>agentsec.session.v1</c>, as text: set by clients on every call.</summary>
    public const string SessionKey = "agentsec-session";

    /// <summary>
    /// Set by a silo on the calls its grains make: the cluster's own token, which a client cannot know. A call that carries
    /// it is a call of the kernel's grains. The silo's HTTP endpoints never send it: they call with their client's session.
    /// </summary>
    public const string KernelKey = "agentsec-kernel";

    /// <summary>The DID of the principal a call acts for, set by the silo once it verified the session; never by a client.</summary>
    public const string PrincipalKey = "agentsec-principal";

    /// <summary>The principal the current call acts for, as the boundary verified it; null in calls no client started.</summary>
    public static string? Principal => RequestContext.Get(PrincipalKey) as string;

    /// <summary>Makes the grain calls of the current flow carry <paramref name="session"/> until disposed, then restores the one before.</summary>
    public static IDisposable UseSession(string session)
    {
        var previous = RequestContext.Get(SessionKey);
        RequestContext.Set(SessionKey, session);
        return new SessionScope(previous);
    }

    private sealed class SessionScope(object? previous) : IDisposable
    {
        public void Dispose()
        {
            if (previous is null)
            {
                RequestContext.Remove(SessionKey);
            }
            else
            {
                RequestContext.Set(SessionKey, previous);
            }
        }
    }
}

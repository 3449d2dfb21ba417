using AgentSecurity.Abstractions.Boundary;

namespace AgentSecurity.Hosting.Http;

/// <summary>
/// Makes the grain calls of the current flow carry an HTTP caller's session, until disposed: the trust boundary then
/// authenticates and authorizes them as it does a .NET client's calls. Nothing else goes with them: an HTTP request's
/// flow carries no kernel token, and the silo stamps none on calls made outside its grains.
/// </summary>
internal static class CallerSession
{
    public static IDisposable Enter(HttpCaller caller) => CallerContext.UseSession(caller.Session);
}

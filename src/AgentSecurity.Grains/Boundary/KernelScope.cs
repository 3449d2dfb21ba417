namespace AgentSecurity.Grains.Boundary;

/// <summary>
/// Marks the calls of the current flow as the kernel's own where the silo cannot tell by itself: code of the silo that
/// runs outside any grain activation (a background service, a sandbox's host calls, a read of who may call) and calls
/// the kernel's interfaces. Calls made inside an activation need no scope. The silo's HTTP endpoints never enter one:
/// they call for a client, with the client's session, through the same boundary as any client (<see cref="KernelCallStamp"/>),
/// but for the security console's reads, admitted as the Orleans dashboard is (<see cref="OperatorReads"/>).
/// </summary>
internal static class KernelScope
{
    private static readonly AsyncLocal<bool> Active = new();

    public static bool IsActive => Active.Value;

    /// <summary>The calls of this flow are the kernel's until the returned scope is disposed.</summary>
    public static IDisposable Enter()
    {
        var previous = Active.Value;
        Active.Value = true;
        return new Exit(previous);
    }

    private sealed class Exit(bool previous) : IDisposable
    {
        public void Dispose() => Active.Value = previous;
    }
}

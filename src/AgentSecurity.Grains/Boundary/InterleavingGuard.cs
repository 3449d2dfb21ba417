using System.Runtime.CompilerServices;

namespace AgentSecurity.Grains.Boundary;

/// <summary>
/// Keeps two client calls that may not interleave from running at once on one activation. Orleans decides whether a
/// request may run beside others by the flags of its message, and a client writes those flags: one built against an
/// interface that claims <c>[AlwaysInterleave]</c> for a method that is not would otherwise run it inside another call
/// (two memory writes between one quota check and its update, say). The guard holds whatever the message says.
/// </summary>
internal sealed class InterleavingGuard
{
    private readonly ConditionalWeakTable<object, StrongBox<int>> _running = new();

    /// <summary>The slot to release when the call ends, or null when another such call is running on the activation.</summary>
    public StrongBox<int>? TryEnter(object activation)
    {
        var running = _running.GetValue(activation, _ => new StrongBox<int>());
        if (Interlocked.Increment(ref running.Value) == 1)
        {
            return running;
        }

        Interlocked.Decrement(ref running.Value);
        return null;
    }

    public static void Exit(StrongBox<int> running) => Interlocked.Decrement(ref running.Value);
}

using Microsoft.Extensions.Options;

namespace AgentSecurity.Hosting.Http;

/// <summary>The event streams this silo serves at once, at most <see cref="HttpApiOptions.MaxEventStreams"/>: each holds a connection, a subscription and a buffer.</summary>
internal sealed class EventStreamSlots(IOptions<HttpApiOptions> options)
{
    private int _open;

    public int Open => Volatile.Read(ref _open);

    public bool TryTake()
    {
        if (Interlocked.Increment(ref _open) <= options.Value.MaxEventStreams)
        {
            return true;
        }

        Interlocked.Decrement(ref _open);
        return false;
    }

    public void Release() => Interlocked.Decrement(ref _open);
}

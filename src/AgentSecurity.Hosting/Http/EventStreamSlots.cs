using Microsoft.Extensions.Options;

namespace AgentSecurity.Hosting.Http;

/// <summary>
/// The event streams this silo serves at once: at most <see cref="HttpApiOptions.MaxEventStreams"/> in all (each holds a
/// connection, a subscription and a buffer) and at most <see cref="HttpApiOptions.MaxEventStreamsPerPrincipal"/> for one
/// principal, so that one tenant's auditor cannot hold every slot of the silo for its session's life.
/// </summary>
internal sealed class EventStreamSlots(IOptions<HttpApiOptions> options)
{
    private readonly Dictionary<string, int> _byPrincipal = new(StringComparer.Ordinal);
    private readonly Lock _lock = new();
    private int _open;

    public int Open => Volatile.Read(ref _open);

    /// <summary>Takes a slot for <paramref name="principal"/>, or says which limit refuses it.</summary>
    public bool TryTake(string principal, out bool principalFull)
    {
        lock (_lock)
        {
            var held = _byPrincipal.GetValueOrDefault(principal);
            principalFull = held >= options.Value.MaxEventStreamsPerPrincipal;
            if (principalFull || _open >= options.Value.MaxEventStreams)
            {
                return false;
            }

            _byPrincipal[principal] = held + 1;
            _open++;
            return true;
        }
    }

    public void Release(string principal)
    {
        lock (_lock)
        {
            var held = _byPrincipal.GetValueOrDefault(principal) - 1;
            if (held <= 0)
            {
                _byPrincipal.Remove(principal);
            }
            else
            {
                _byPrincipal[principal] = held;
            }

            _open--;
        }
    }
}

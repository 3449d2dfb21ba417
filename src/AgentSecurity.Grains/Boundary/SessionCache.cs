using System.Collections.Concurrent;
using AgentSecurity.Grants;
using AgentSecurity.Grants.Access;

namespace AgentSecurity.Grains.Boundary;

/// <summary>
/// Sessions this silo has verified, by their exact text: a session costs one signature verification per silo, then a
/// lookup. Bounded: a flood of distinct sessions evicts the oldest, never grows the silo. Expiry is checked on every use.
/// </summary>
internal sealed class SessionCache(TimeProvider time, string audience, TimeSpan clockSkew, int capacity, Action onVerified)
{
    private readonly ConcurrentDictionary<string, (string Principal, DateTimeOffset ExpiresAt)> _verified = new(StringComparer.Ordinal);

    public int Count => _verified.Count;

    /// <summary>The principal the session proves now, or why it proves nothing (<c>unauthenticated</c>).</summary>
    public Result<string> Authenticate(string? session)
    {
        var now = time.GetUtcNow();
        if (session is not null && _verified.TryGetValue(session, out var known))
        {
            return known.ExpiresAt > now
                ? Result<string>.Ok(known.Principal)
                : new Failure(ReasonCodes.Unauthenticated, "the session expired; sign a new one");
        }

        var verified = SessionVerifier.Verify(session, audience, now, clockSkew);
        if (!verified.TryGetValue(out var document, out var failure))
        {
            return failure;
        }

        onVerified();
        if (_verified.Count >= capacity)
        {
            Evict(now);
        }

        _verified[session!] = (document.PrincipalDid.Value, document.ExpiresAt);
        return Result<string>.Ok(document.PrincipalDid.Value);
    }

    /// <summary>Drops the expired sessions and, if that is not enough, the half that expires first.</summary>
    private void Evict(DateTimeOffset now)
    {
        foreach (var (text, entry) in _verified)
        {
            if (entry.ExpiresAt <= now)
            {
                _verified.TryRemove(text, out _);
            }
        }

        if (_verified.Count >= capacity)
        {
            foreach (var (text, _) in _verified.OrderBy(p => p.Value.ExpiresAt).Take(Math.Max(1, _verified.Count / 2)).ToList())
            {
                _verified.TryRemove(text, out _);
            }
        }
    }
}

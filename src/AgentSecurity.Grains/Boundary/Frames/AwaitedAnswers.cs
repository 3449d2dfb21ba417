namespace AgentSecurity.Grains.Boundary.Frames;

/// <summary>
/// The requests a silo sent a client over one gateway connection (a grain calling the client's observer, a stream
/// delivering to it) and has not had answered: the only responses that client may send. Bounded: a request not answered
/// within its lifetime is forgotten (its caller gave up long before), and beyond its capacity of
/// unanswered requests a client's further answers are not awaited (a client that answers nothing is not waited for).
/// </summary>
internal sealed class AwaitedAnswers(TimeProvider time, TimeSpan lifetime, int capacity = AwaitedAnswers.DefaultCapacity)
{
    /// <summary>Far above what one client has in flight: a client is one process, its observers few.</summary>
    public const int DefaultCapacity = 16_384;

    private readonly Dictionary<long, Awaited> _awaited = [];
    private readonly long _lifetimeTicks = (long)(lifetime.TotalSeconds * time.TimestampFrequency);
    private long _lastSweep = time.GetTimestamp();

    public int Count
    {
        get
        {
            lock (_awaited)
            {
                return _awaited.Count;
            }
        }
    }

    /// <summary>A request the silo sent with correlation id <paramref name="id"/> from the grain of that type and key.</summary>
    public void Add(long id, ReadOnlySpan<byte> senderType, ReadOnlySpan<byte> senderKey)
    {
        var now = time.GetTimestamp();
        lock (_awaited)
        {
            if (now - _lastSweep > _lifetimeTicks / 4)
            {
                Sweep(now);
            }

            if (_awaited.Count < capacity)
            {
                _awaited[id] = new Awaited(Identity(senderType, senderKey), now);
            }
        }
    }

    /// <summary>
    /// True once for a response to a request the silo sent and still awaits: the same correlation id, addressed to the
    /// grain that sent the request.
    /// </summary>
    public bool TryTake(long id, ReadOnlySpan<byte> targetType, ReadOnlySpan<byte> targetKey)
    {
        var now = time.GetTimestamp();
        lock (_awaited)
        {
            return _awaited.TryGetValue(id, out var awaited)
                && now - awaited.Since <= _lifetimeTicks
                && awaited.Sender == Identity(targetType, targetKey)
                && _awaited.Remove(id);
        }
    }

    private void Sweep(long now)
    {
        _lastSweep = now;
        foreach (var (id, awaited) in _awaited)
        {
            if (now - awaited.Since > _lifetimeTicks)
            {
                _awaited.Remove(id);
            }
        }
    }

    /// <summary>
    /// A grain as 64 bits: enough beside the correlation id, which alone names one waiting call (a silo's ids are unique),
    /// and sixteen bytes an entry however long a client made the ids.
    /// </summary>
    private static ulong Identity(ReadOnlySpan<byte> type, ReadOnlySpan<byte> key) =>
        ((ulong)StableHash.ComputeHash(type) << 32) | StableHash.ComputeHash(key);

    private readonly record struct Awaited(ulong Sender, long Since);
}

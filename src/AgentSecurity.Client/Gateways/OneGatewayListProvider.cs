using Orleans.Messaging;

namespace AgentSecurity.Client.Gateways;

/// <summary>
/// Gives the Orleans client one gateway of the list at a time (chosen at random, so that clients spread over the
/// gateways), kept while the list has it and the client stays connected to it; another once the connection is lost,
/// or when none was made within <see cref="FirstConnectionWithin"/> of choosing it (a gateway that is down).
/// </summary>
/// <remarks>
/// The cluster's gateways accept a client's answer (an observer's, a stream consumer's) only on the connection the
/// request came by (<c>AgentSecurity.Grains.Boundary.Frames</c>: any other answer could be a forged one). An Orleans
/// client connected to several gateways sends an answer by whichever its hash of the caller picks, not by the one that
/// delivered the request, and the answer is dropped. With one gateway, requests and answers share one connection.
/// </remarks>
internal sealed class OneGatewayListProvider(IGatewayListProvider inner, TimeProvider time) : IGatewayListProvider, IClusterConnectionStatusObserver
{
    /// <summary>How long a gateway whose connection was lost, or never made, is passed over while others are listed.</summary>
    public static readonly TimeSpan PassOver = TimeSpan.FromMinutes(1);

    /// <summary>
    /// How long a chosen gateway has to take a connection before another is chosen: above Orleans' connection timeout
    /// (5 s) and its retry delay (1 s), so a connection being made is not given up.
    /// </summary>
    public static readonly TimeSpan FirstConnectionWithin = TimeSpan.FromSeconds(15);

    private readonly Lock _lock = new();
    private Uri? _current;
    private DateTimeOffset _chosenAt;
    private bool _connected;
    private Uri? _lost;
    private DateTimeOffset _lostUntil;

    /// <summary>The list it chooses from.</summary>
    public IGatewayListProvider Inner => inner;

    public TimeSpan MaxStaleness => inner.MaxStaleness;

    [Obsolete("Orleans no longer reads it: every provider is refreshed.")]
    public bool IsUpdatable => true;

    public Task InitializeGatewayListProvider() => inner.InitializeGatewayListProvider();

    public async Task<IList<Uri>> GetGateways()
    {
        var listed = await inner.GetGateways().ConfigureAwait(false);
        lock (_lock)
        {
            var now = time.GetUtcNow();
            if (_current is not null && !_connected && now - _chosenAt > FirstConnectionWithin)
            {
                Lose(now);
            }

            if (_current is null || !listed.Contains(_current))
            {
                var candidates = listed.Where(g => g != _lost || now >= _lostUntil).ToList();
                candidates = candidates.Count > 0 ? candidates : [.. listed];
                _current = candidates.Count > 0 ? candidates[Random.Shared.Next(candidates.Count)] : null;
                (_chosenAt, _connected) = (now, false);
            }

            return _current is null ? [] : [_current];
        }
    }

    public void NotifyGatewayCountChanged(int currentNumberOfGateways, int previousNumberOfGateways, bool connectionRecovered)
    {
        lock (_lock)
        {
            if (currentNumberOfGateways > 0)
            {
                _connected = true;
                return;
            }

            // The only connection is gone: the next list (Orleans asks at once when it has no gateway) names another.
            Lose(time.GetUtcNow());
        }
    }

    public void NotifyClusterConnectionLost()
    {
    }

    private void Lose(DateTimeOffset now) => (_lost, _lostUntil, _current) = (_current, now + PassOver, null);
}

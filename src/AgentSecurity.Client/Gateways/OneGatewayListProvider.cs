using Orleans.Messaging;

namespace AgentSecurity.Client.Gateways;

/// <summary>
/// Gives the Orleans client one gateway of the list at a time (chosen at random, so that clients spread over the
/// gateways), kept while the list has it and the client stays connected to it; once the connection is lost, another.
/// </summary>
/// <remarks>
/// The cluster's gateways accept a client's answer (an observer's, a stream consumer's) only on the connection the
/// request came by (<c>AgentSecurity.Grains.Boundary.Frames</c>: any other answer could be a forged one). An Orleans
/// client connected to several gateways sends an answer by whichever its hash of the caller picks, not by the one that
/// delivered the request, and the answer is dropped. With one gateway, requests and answers share one connection.
/// </remarks>
internal sealed class OneGatewayListProvider(IGatewayListProvider inner, TimeProvider time) : IGatewayListProvider, IClusterConnectionStatusObserver
{
    /// <summary>How long a gateway whose connection was lost is passed over while others are listed.</summary>
    public static readonly TimeSpan PassOver = TimeSpan.FromMinutes(1);

    private readonly Lock _lock = new();
    private Uri? _current;
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
            if (_current is null || !listed.Contains(_current))
            {
                var candidates = listed.Where(g => g != _lost || time.GetUtcNow() >= _lostUntil).ToList();
                candidates = candidates.Count > 0 ? candidates : [.. listed];
                _current = candidates.Count > 0 ? candidates[Random.Shared.Next(candidates.Count)] : null;
            }

            return _current is null ? [] : [_current];
        }
    }

    public void NotifyGatewayCountChanged(int currentNumberOfGateways, int previousNumberOfGateways, bool connectionRecovered)
    {
        if (currentNumberOfGateways > 0)
        {
            return;
        }

        // The only connection is gone: the next list (Orleans asks at once when it has no gateway) names another.
        lock (_lock)
        {
            (_lost, _lostUntil, _current) = (_current, time.GetUtcNow() + PassOver, null);
        }
    }

    public void NotifyClusterConnectionLost()
    {
    }
}

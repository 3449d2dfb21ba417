using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using Orleans.Messaging;

namespace AgentSecurity.Client.Gateways;

/// <summary>
/// The gateway list of configured <c>host:port</c> entries, DNS names resolved anew each time Orleans asks (at start,
/// then every <c>GatewayOptions.GatewayListRefreshPeriod</c>): a name whose addresses change (a Kubernetes Service,
/// a load-balanced name) is followed. IP entries pass through. A name that does not resolve is logged and left out,
/// never thrown: with no gateway at all, Orleans refuses to start with its own error ("Could not find any gateway").
/// A name that resolved before and fails now keeps its last addresses, so a passing DNS failure does not empty the list
/// under a connected client; Orleans drops an address that stops answering on its own.
/// </summary>
internal sealed class DnsGatewayListProvider : IGatewayListProvider
{
    /// <summary>How long one name may take to resolve: a resolver that hangs must not hold up the client's start.</summary>
    public static readonly TimeSpan DefaultResolveTimeout = TimeSpan.FromSeconds(10);

    private readonly IReadOnlyList<GatewayAddress> _gateways;
    private readonly Func<string, CancellationToken, Task<IPAddress[]>> _resolve;
    private readonly TimeProvider _time;
    private readonly TimeSpan _resolveTimeout;
    private readonly ILogger _logger;
    private readonly ConcurrentDictionary<GatewayAddress, IPEndPoint[]> _lastResolved = new();

    /// <param name="gateways">The configured entries.</param>
    /// <param name="maxStaleness">How old Orleans may take the list to be: its refresh period, as for its own providers.</param>
    /// <param name="resolve">Resolves a name to its addresses (<see cref="Dns.GetHostAddressesAsync(string, CancellationToken)"/>).</param>
    /// <param name="time">The clock of the resolution timeout.</param>
    /// <param name="logger">Where unresolved names and changed answers are logged.</param>
    /// <param name="resolveTimeout">How long one name may take (default <see cref="DefaultResolveTimeout"/>).</param>
    public DnsGatewayListProvider(IReadOnlyList<GatewayAddress> gateways, TimeSpan maxStaleness,
        Func<string, CancellationToken, Task<IPAddress[]>> resolve, TimeProvider time, ILogger logger, TimeSpan? resolveTimeout = null)
    {
        ArgumentNullException.ThrowIfNull(gateways);
        ArgumentNullException.ThrowIfNull(resolve);
        ArgumentNullException.ThrowIfNull(time);
        ArgumentNullException.ThrowIfNull(logger);
        _gateways = gateways;
        MaxStaleness = maxStaleness;
        _resolve = resolve;
        _time = time;
        _logger = logger;
        _resolveTimeout = resolveTimeout ?? DefaultResolveTimeout;
    }

    /// <summary>The system's resolver (hosts file, then DNS).</summary>
    public static Task<IPAddress[]> SystemResolver(string host, CancellationToken cancellation) => Dns.GetHostAddressesAsync(host, cancellation);

    public TimeSpan MaxStaleness { get; }

    [Obsolete("Orleans no longer reads it: every provider is refreshed.")]
    public bool IsUpdatable => true;

    public Task InitializeGatewayListProvider() => Task.CompletedTask;

    /// <summary>Every entry's addresses, in the order configured, each address once, as Orleans' gateway URIs.</summary>
    public async Task<IList<Uri>> GetGateways()
    {
        var resolved = await Task.WhenAll(_gateways.Select(ResolveAsync));
        var seen = new HashSet<IPEndPoint>();
        var gateways = new List<Uri>();
        foreach (var endpoint in resolved.SelectMany(e => e))
        {
            if (seen.Add(endpoint))
            {
                gateways.Add(endpoint.ToGatewayUri());
            }
        }

        return gateways;
    }

    private async Task<IPEndPoint[]> ResolveAsync(GatewayAddress gateway)
    {
        if (gateway.Address is { } address)
        {
            return [new IPEndPoint(address, gateway.Port)];
        }

        string problem;
        try
        {
            using var timeout = new CancellationTokenSource(_resolveTimeout, _time);
            var addresses = await _resolve(gateway.Host, timeout.Token).WaitAsync(_resolveTimeout, _time);
            var endpoints = addresses.Where(IsUsable).Distinct().Select(a => new IPEndPoint(a, gateway.Port)).ToArray();
            if (endpoints.Length > 0)
            {
                var previous = _lastResolved.GetValueOrDefault(gateway);
                _lastResolved[gateway] = endpoints;
                if (previous is null || !previous.ToHashSet().SetEquals(endpoints))
                {
                    GatewayLog.Resolved(_logger, gateway, endpoints);
                }

                return endpoints;
            }

            problem = "no IPv4 or IPv6 address";
        }
        catch (TimeoutException)
        {
            problem = $"no answer within {_resolveTimeout.TotalSeconds:0.#} s";
        }
#pragma warning disable CA1031 // Whatever the resolver throws, the client host must not crash for one name.
        catch (Exception e)
#pragma warning restore CA1031
        {
            problem = $"{e.GetType().Name}: {e.Message}";
        }

        if (_lastResolved.TryGetValue(gateway, out var last))
        {
            GatewayLog.KeptLastAddresses(_logger, gateway, problem, last);
            return last;
        }

        GatewayLog.Unresolved(_logger, gateway, problem);
        return [];
    }

    /// <summary>An address Orleans can name in a gateway URI: IPv4, or IPv6 without a zone (the URI drops it).</summary>
    private static bool IsUsable(IPAddress address) =>
        address.AddressFamily == AddressFamily.InterNetwork || (address.AddressFamily == AddressFamily.InterNetworkV6 && address.ScopeId == 0);
}

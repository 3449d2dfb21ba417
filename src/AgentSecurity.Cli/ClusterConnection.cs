using System.Net;
using AgentSecurity.Client;
using AgentSecurity.Client.Gateways;
using AgentSecurity.Grants;
using AgentSecurity.Grants.Crypto;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace AgentSecurity.Cli;

/// <summary>
/// A short-lived Orleans client for one command. Gateways (<c>host:port</c>, by IP address or DNS name) come from
/// <c>--gateway</c>, else <c>AGENTSEC_GATEWAY</c>, else the local default; the cluster id from <c>AGENTSEC_CLUSTER_ID</c>; TLS as <see cref="ClientTls"/> finds it.
/// </summary>
internal sealed class ClusterConnection : IAsyncDisposable
{
    private readonly IHost _host;

    private ClusterConnection(IHost host)
    {
        _host = host;
        Client = host.Services.GetRequiredService<AgentSecurityClient>();
    }

    public AgentSecurityClient Client { get; }

    public IClusterClient Cluster => _host.Services.GetRequiredService<IClusterClient>();

    public static string DefaultGateways =>
        Environment.GetEnvironmentVariable("AGENTSEC_GATEWAY") is { Length: > 0 } configured ? configured : AgentSecurityClientBuilderExtensions.DefaultGateway;

    /// <summary>The calls of the current flow are the kernel's (with a connection made with the kernel's token).</summary>
    public static void ActAsKernel() => PlaysKernel.Value = true;

    private static readonly AsyncLocal<bool> PlaysKernel = new();

    /// <summary>Connects, calling as <paramref name="caller"/>, or explains why it could not; never throws.</summary>
    /// <param name="gateways">The gateways; null for <see cref="DefaultGateways"/>.</param>
    /// <param name="caller">Whose session every call carries.</param>
    /// <param name="cancellation">Ends the attempt.</param>
    /// <param name="kernelToken">
    /// The cluster's own token, for an operator's benchmark that plays the kernel (<c>bench audit</c>): put after the
    /// session filter (which removes any other) on the calls of a flow that <see cref="ActAsKernel"/>.
    /// </param>
    public static async Task<(ClusterConnection? Connection, Failure? Problem)> ConnectAsync(string? gateways, SigningKey caller, CancellationToken cancellation, string? kernelToken = null)
    {
        var clusterId = Environment.GetEnvironmentVariable("AGENTSEC_CLUSTER_ID") is { Length: > 0 } id ? id : "agentsec-dev";
        var serviceId = Environment.GetEnvironmentVariable("AGENTSEC_SERVICE_ID") is { Length: > 0 } service ? service : "agentsec";
        var addresses = gateways ?? DefaultGateways;
        IReadOnlyList<GatewayAddress> parsed;
        try
        {
            parsed = GatewayAddress.ParseList(addresses);
        }
        catch (FormatException e)
        {
            return (null, new Failure(CliOutput.UsageError, e.Message));
        }

        var (endpoints, unresolved) = await ResolveAsync(parsed, cancellation);
        if (unresolved is not null)
        {
            return (null, unresolved);
        }

        if (!ClientTls.Resolve(TimeProvider.System).TryGetValue(out var tls, out var tlsProblem))
        {
            return (null, tlsProblem);
        }

        // A session is a bearer token: in clear text it may go only to this machine.
        if (tls is null && endpoints.FirstOrDefault(e => !IPAddress.IsLoopback(e.Address.IsIPv4MappedToIPv6 ? e.Address.MapToIPv4() : e.Address)) is { } remote)
        {
            return (null, new Failure(CliOutput.UsageError,
                $"the gateway {remote} is not on this machine and no TLS certificate is configured (AGENTSEC_TLS_CERT, AGENTSEC_TLS_KEY, AGENTSEC_TLS_CA): the session would cross the network in clear text"));
        }

        if (await GatewayProbe.ProbeAsync(endpoints, addresses, tls, cancellation) is { } absent)
        {
            return (null, absent);
        }

        IHost? host = null;
        try
        {
            host = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings()).UseOrleansClient(client =>
            {
                // In clear text the session goes to the addresses checked above, not to whatever a name resolves to later.
                client.UseAgentSecurity(tls is null ? string.Join(',', endpoints.Select(e => e.ToString())) : addresses, clusterId, serviceId).UseAgentSecuritySession(caller);
                if (kernelToken is not null)
                {
                    client.AddOutgoingGrainCallFilter(context =>
                    {
                        if (PlaysKernel.Value)
                        {
                            Orleans.Runtime.RequestContext.Set(Abstractions.Boundary.CallerContext.KernelKey, kernelToken);
                        }

                        return context.Invoke();
                    });
                }
                if (tls is not null)
                {
                    client.UseAgentSecurityTls(tls);
                }
            }).Build();
            await host.StartAsync(cancellation).WaitAsync(TimeSpan.FromSeconds(20), cancellation);
            return (new ClusterConnection(host), null);
        }
#pragma warning disable CA1031 // Any failure to connect is reported as "unavailable".
        catch (Exception e)
#pragma warning restore CA1031
        {
            host?.Dispose();
            // A gateway that speaks TLS closes a clear-text connection without a word: say what may be missing.
            var hint = tls is null ? "; no TLS certificate is configured (AGENTSEC_TLS_CERT, AGENTSEC_TLS_KEY, AGENTSEC_TLS_CA, or the tls/ folder ./run.sh makes in $AGENTSEC_STATE_DIR or .agentsec/), and a cluster with TLS refuses clear text" : string.Empty;
            return (null, new Failure(ReasonCodes.Unavailable, $"cannot reach the cluster at {addresses} ({e.GetType().Name}: {e.Message}){hint}"));
        }
    }

    /// <summary>The gateways' addresses: IP entries as they are, DNS names resolved now (every address of each).</summary>
    private static async Task<(IPEndPoint[] Endpoints, Failure? Problem)> ResolveAsync(IReadOnlyList<GatewayAddress> gateways, CancellationToken cancellation)
    {
        var endpoints = new List<IPEndPoint>();
        foreach (var gateway in gateways)
        {
            if (gateway.Address is { } address)
            {
                endpoints.Add(new IPEndPoint(address, gateway.Port));
                continue;
            }

            try
            {
                endpoints.AddRange((await Dns.GetHostAddressesAsync(gateway.Host, cancellation)).Select(a => new IPEndPoint(a, gateway.Port)));
            }
            catch (System.Net.Sockets.SocketException e)
            {
                return ([], new Failure(ReasonCodes.Unavailable, $"cannot resolve the gateway {gateway.Host}: {e.Message}"));
            }
        }

        return endpoints.Count > 0
            ? ([.. endpoints.Distinct()], null)
            : ([], new Failure(ReasonCodes.Unavailable, "no gateway address resolves"));
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await _host.StopAsync(TimeSpan.FromSeconds(5));
        }
        finally
        {
            _host.Dispose();
        }
    }
}

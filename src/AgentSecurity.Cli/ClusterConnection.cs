using System.Net;
using AgentSecurity.Client;
using AgentSecurity.Grants;
using AgentSecurity.Grants.Crypto;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace AgentSecurity.Cli;

/// <summary>
/// A short-lived Orleans client for one command. Gateways come from <c>--gateway</c>, else <c>AGENTSEC_GATEWAY</c>,
/// else the local default; the cluster id from <c>AGENTSEC_CLUSTER_ID</c>; TLS as <see cref="ClientTls"/> finds it.
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

    /// <summary>Connects, calling as <paramref name="caller"/>, or explains why it could not; never throws.</summary>
    public static async Task<(ClusterConnection? Connection, Failure? Problem)> ConnectAsync(string? gateways, SigningKey caller, CancellationToken cancellation)
    {
        var clusterId = Environment.GetEnvironmentVariable("AGENTSEC_CLUSTER_ID") is { Length: > 0 } id ? id : "agentsec-dev";
        var serviceId = Environment.GetEnvironmentVariable("AGENTSEC_SERVICE_ID") is { Length: > 0 } service ? service : "agentsec";
        var addresses = gateways ?? DefaultGateways;
        IPEndPoint[] endpoints;
        try
        {
            endpoints = AgentSecurityClientBuilderExtensions.ParseGateways(addresses).ToArray();
        }
        catch (FormatException e)
        {
            return (null, new Failure(CliOutput.UsageError, e.Message));
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
                client.UseAgentSecurity(addresses, clusterId, serviceId).UseAgentSecuritySession(caller);
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

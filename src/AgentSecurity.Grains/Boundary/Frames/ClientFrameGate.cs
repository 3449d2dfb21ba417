using System.IO.Pipelines;
using AgentSecurity.Grains.Telemetry;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Configuration;

namespace AgentSecurity.Grains.Boundary.Frames;

/// <summary>
/// The gateway's gate: every client connection's bytes pass <see cref="ClientFrameReader"/> on the way in and
/// <see cref="SiloFrameWriter"/> on the way out, below Orleans and above TLS. Orleans' gateway forwards any message a
/// client writes, and a silo completes a waiting call with any response that names it; the gate holds each client to its
/// own name and to answering only what it was asked (<see cref="ClientFrameRules"/>).
/// </summary>
internal sealed class ClientFrameGate(
    ClientPreambles preambles, ReachableSilos silos, IOptions<SiloMessagingOptions> messaging, AgentSecurityMetrics metrics, ILogger<ClientFrameGate> logger, TimeProvider? time = null)
{
    /// <summary>
    /// How long a request sent to a client is awaited: beyond the response timeout of any call a grain makes to a
    /// client (Orleans' default is 30 s), after which its caller has given up.
    /// </summary>
    public static readonly TimeSpan AwaitedLifetime = TimeSpan.FromMinutes(10);

    public ConnectionDelegate Wrap(ConnectionDelegate next) => async context =>
    {
        var transport = context.Transport;
        var connection = new GatedConnection(
            preambles, new AwaitedAnswers(time ?? TimeProvider.System, AwaitedLifetime), silos, messaging.Value.MaxMessageHeaderSize, messaging.Value.MaxMessageBodySize, metrics, logger);
        context.Transport = new GatedTransport(new ClientFrameReader(transport.Input, connection), new SiloFrameWriter(transport.Output, connection.Awaited));
        try
        {
            await next(context).ConfigureAwait(false);
        }
        finally
        {
            context.Transport = transport;
        }
    };

    private sealed class GatedTransport(PipeReader input, PipeWriter output) : IDuplexPipe
    {
        public PipeReader Input => input;

        public PipeWriter Output => output;
    }
}

/// <summary>One client connection as the gate knows it.</summary>
internal sealed class GatedConnection(
    ClientPreambles preambles, AwaitedAnswers awaited, ReachableSilos silos, int maxHeaderLength, int maxBodyLength, AgentSecurityMetrics metrics, ILogger logger)
{
    public ClientPreambles Preambles => preambles;

    public AwaitedAnswers Awaited => awaited;

    public ReachableSilos Silos => silos;

    public int MaxHeaderLength => maxHeaderLength;

    public int MaxBodyLength => maxBodyLength;

    /// <summary>Who the connection's preamble said it is; null until it is read.</summary>
    public ClientIdentity? Client { get; set; }

    /// <summary>Logged one by one at first; then one line in a thousand, so that a flood of refused answers is no flood of lines.</summary>
    private const int LoggedOneByOne = 10;

    private int _refused;

    public void Refused(string reason, FrameDirection direction, long id)
    {
        metrics.FramesRefused.Add(1, new KeyValuePair<string, object?>("reason", reason));
        var refused = ++_refused;
        if (refused <= LoggedOneByOne || refused % 1000 == 0)
        {
            Log.FrameRefused(logger, Client?.ToString() ?? "?", reason, direction.ToString(), id, refused);
        }
    }
}

public static class ClientFrameGateRegistration
{
    /// <summary>
    /// Puts the gate on every client connection of the silo's gateway, inside any TLS (a post-configuration: it runs after
    /// every connection setting, so the gate reads the bytes TLS has decrypted).
    /// </summary>
    public static ISiloBuilder AddClientFrameGate(this ISiloBuilder silo)
    {
        silo.Services.AddSingleton<ClientPreambles>();
        silo.Services.AddSingleton(services => new ClientFrameGate(
            services.GetRequiredService<ClientPreambles>(),
            ReachableSilosOf(services),
            services.GetRequiredService<IOptions<SiloMessagingOptions>>(),
            services.GetRequiredService<AgentSecurityMetrics>(),
            services.GetRequiredService<ILogger<ClientFrameGate>>(),
            services.GetService<TimeProvider>()));
        silo.Services.PostConfigure<SiloConnectionOptions>(connections => connections.ConfigureGatewayInboundConnection(
            connection => connection.Use(connection.ApplicationServices.GetRequiredService<ClientFrameGate>().Wrap)));
        return silo;
    }

    private static ReachableSilos ReachableSilosOf(IServiceProvider services)
    {
        var gateway = services.GetRequiredService<ILocalSiloDetails>().GatewayAddress
            ?? throw new InvalidOperationException("the gateway's gate is asked for on a silo without a gateway");
        var membership = services.GetRequiredService<IClusterMembershipService>();
        // An entry of the membership in any state: Orleans rejects a message to a dead one without dialling it (and so
        // answers its caller at once); one still joining is a silo a test host may address. Not the snapshot's status of
        // an address, which calls one it does not know dead as well.
        return new ReachableSilos(gateway, address => membership.CurrentSnapshot.Members.ContainsKey(address));
    }
}

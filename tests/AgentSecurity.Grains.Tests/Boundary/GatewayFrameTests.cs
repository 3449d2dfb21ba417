using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Text;
using AgentSecurity.Abstractions;
using AgentSecurity.Abstractions.Audit;
using AgentSecurity.Client;
using AgentSecurity.Grains.Boundary.Frames;
using AgentSecurity.Grains.Telemetry;
using AgentSecurity.Grains.Tests.Infrastructure;
using AgentSecurity.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace AgentSecurity.Grains.Tests.Boundary;

/// <summary>
/// The gateway's gate against real clients over TCP: a client that writes a response to a call it was never asked
/// (here, another tenant's client's call) has it dropped, and the clients' own observers still answer the silo.
/// </summary>
[Collection(GatewayClientsCollection.Name)]
public sealed class GatewayFrameTests(GatewayClientsFixture fixture)
{
    private static ExecutionRequest Script(string code) => new() { Runtime = "js", Code = Encoding.UTF8.GetBytes(code) };

    [Fact]
    public async Task ForgedAnswer_ToAnotherTenantsClientsWaitingCall_IsDroppedAndTheCallGetsItsOwnAnswer()
    {
        var tenant = await fixture.NewTenantWithAsync("bot");
        using var victimHost = await fixture.StartClientAsync(TestKeys.Root);
        using var attackerHost = await fixture.StartClientAsync(TestKeys.FromByte(0x66));
        var victim = new AgentSecurityClient(victimHost.Services.GetRequiredService<IClusterClient>());
        using var refusals = new RefusalListener(fixture.Silos, FrameRefusals.UnaskedResponse);

        Task<ExecutionResult> waiting;
        using (HeldStarts.Hold(tenant))
        {
            waiting = victim.ExecuteAsync(tenant, "bot", Script("agentsec.output('real')"));
            var (id, caller) = await ForgedMessages.WaitingCallAsync(victimHost.Services, tenant);

            ForgedMessages.SendResponse(attackerHost.Services, id, caller, new ExecutionResult { Ok = true, Output = "forged" });

            // Without the gate, the forged answer completes the victim's call while its code has not even started.
            await Task.WhenAny(refusals.First, waiting).WaitAsync(TimeSpan.FromSeconds(30));
            if (waiting.IsCompleted)
            {
                var early = await waiting;
                Assert.Fail($"the victim's call was answered by another client: {early.Output}");
            }
        }

        var result = await waiting.WaitAsync(TimeSpan.FromSeconds(60));

        Assert.True(result.Ok, $"{result.Error}: {result.Message}");
        Assert.Equal("real", result.Output);
    }

    /// <summary>
    /// A platform's client of a cluster of two gateways subscribes to tenants' events: deliveries to a subscriber go one
    /// after another, each once the observer answered the one before. Were an answer dropped (an Orleans client sends it
    /// by whichever gateway its hash of the caller picks, and the gate takes it only on the connection the request came
    /// by), the next delivery would wait out the first's response timeout (30 s) and the subscriber be dropped.
    /// </summary>
    [Fact]
    public async Task Subscription_PlatformClientOfTwoGateways_ObserverAnswersEachDelivery()
    {
        using var host = await fixture.StartPlatformClientAsync(TestKeys.Root);
        var client = host.Services.GetRequiredService<AgentSecurityClient>();
        using var refusals = new RefusalListener(fixture.Silos, FrameRefusals.UnaskedResponse);

        // Each tenant's audit grain, its own caller of the observer: four, so that any of them answered by way of the
        // other gateway shows.
        for (var t = 0; t < 4; t++)
        {
            var tenant = await fixture.NewTenantWithAsync("bot");
            var denied = 0;
            await using var subscription = await client.SubscribeAsync(tenant, e =>
            {
                if (e.Type == SecurityEventTypes.CheckDenied)
                {
                    Interlocked.Increment(ref denied);
                }

                return Task.CompletedTask;
            });

            for (var i = 1; i <= 2; i++)
            {
                Assert.False((await client.CheckAsync(tenant, "bot", CheckRequests.Fetch($"https://denied-{i}.invalid/"))).Allowed);
                var waited = Stopwatch.StartNew();
                while (Volatile.Read(ref denied) < i)
                {
                    Assert.True(waited.Elapsed < TimeSpan.FromSeconds(20), $"tenant {t}'s delivery {i} did not come within 20 s (answers dropped: {refusals.First.IsCompleted})");
                    await Task.Delay(TimeSpan.FromMilliseconds(20));
                }
            }
        }

        Assert.False(refusals.First.IsCompleted, "an observer's answer was dropped");
    }

    /// <summary>
    /// A client that knows another client's observer (another tenant's subscriber to its security events) calls it: the
    /// silo would route the call to that client, which would take the attacker's events as its log's. The gate ends the
    /// attacker's connection before the silo reads the call.
    /// </summary>
    [Fact]
    public async Task CallToAnotherClientsObserver_EndsTheCallersConnectionAndNeverReachesIt()
    {
        using var victimHost = await fixture.StartClientAsync(TestKeys.Root);
        using var attackerHost = await fixture.StartClientAsync(TestKeys.FromByte(0x66));
        var victim = victimHost.Services.GetRequiredService<IClusterClient>();
        var attacker = attackerHost.Services.GetRequiredService<IClusterClient>();
        var received = new EventsReceived();
        var observer = victim.CreateObjectReference<ISecurityEventObserver>(received);
        using var refusals = new RefusalListener(fixture.Silos, FrameRefusals.ClientTarget);
        try
        {
            var forged = new DecisionEvent { Id = "forged", Type = SecurityEventTypes.CheckDenied, TenantId = "victim", AgentId = "bot", Capability = "llm" };
            var call = attacker.GetGrain<ISecurityEventObserver>(observer.GetGrainId()).OnEventsAsync([new LoggedEvent(1, forged)]);

            // Refused as it is read, before the silo sees it: it is not delivered later either (Orleans may resend it on
            // a new connection, refused there too, until the call times out; the test does not wait for that).
            await Task.WhenAny(refusals.First, call).WaitAsync(TimeSpan.FromSeconds(30));
            Assert.True(refusals.First.IsCompleted, $"the call to another client's observer was not refused (delivered: {received.Calls})");
            Assert.Equal(0, received.Calls);
        }
        finally
        {
            victim.DeleteObjectReference<ISecurityEventObserver>(observer);
        }
    }

    /// <summary>
    /// Orleans' gateway forwards a client's message to a system target to whatever silo address the message names
    /// (<c>Gateway.TryToReroute</c> trusts it): a client would have the silo send for it to an endpoint of the client's
    /// choosing. The gate drops such a message before the gateway reads it; the same system target at this gateway passes.
    /// </summary>
    [Fact]
    public async Task SystemTargetAtAnAddressOfNoSilo_IsDroppedBeforeTheGatewayReadsIt()
    {
        using var attackerHost = await fixture.StartClientAsync(TestKeys.FromByte(0x66));
        var probed = SiloAddress.New(new System.Net.IPEndPoint(System.Net.IPAddress.Parse("169.254.169.254"), 80), 1);
        using var refusals = new RefusalListener(fixture.Silos, FrameRefusals.UnknownSilo);

        ForgedMessages.SendToSystemTarget(attackerHost.Services, SystemTargetGrainId.CreateGrainType("manifest"), probed);

        await refusals.First.WaitAsync(TimeSpan.FromSeconds(30));
    }

    private sealed class EventsReceived : ISecurityEventObserver
    {
        private int _calls;

        public int Calls => Volatile.Read(ref _calls);

        public Task OnEventsAsync(IReadOnlyList<LoggedEvent> events)
        {
            Interlocked.Increment(ref _calls);
            return Task.CompletedTask;
        }
    }

    /// <summary>Completes <see cref="First"/> when the given silos' gates drop a frame for the given reason.</summary>
    private sealed class RefusalListener : IDisposable
    {
        private readonly MeterListener _listener = new();
        private readonly TaskCompletionSource _first = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public RefusalListener(IEnumerable<IServiceProvider> silos, string reason)
        {
            var meters = silos.Select(s => s.GetRequiredService<IMeterFactory>()).ToList();
            _listener.InstrumentPublished = (instrument, listener) =>
            {
                if (meters.Any(m => ReferenceEquals(instrument.Meter.Scope, m)) && instrument.Meter.Name == AgentSecurityMetrics.MeterName && instrument.Name == "agentsec.boundary.frames_refused")
                {
                    listener.EnableMeasurementEvents(instrument);
                }
            };
            _listener.SetMeasurementEventCallback<long>((_, _, tags, _) =>
            {
                foreach (var tag in tags)
                {
                    if (tag is { Key: "reason", Value: string value } && value == reason)
                    {
                        _first.TrySetResult();
                    }
                }
            });
            _listener.Start();
        }

        public Task First => _first.Task;

        public void Dispose() => _listener.Dispose();
    }
}

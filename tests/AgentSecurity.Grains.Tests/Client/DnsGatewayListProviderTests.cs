using System.Net;
using System.Net.Sockets;
using AgentSecurity.Client.Gateways;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;

namespace AgentSecurity.Grains.Tests.Client;

public sealed class DnsGatewayListProviderTests
{
    private static readonly TimeSpan RefreshPeriod = TimeSpan.FromMinutes(1);

    private readonly RecordingLoggerProvider _log = new();

    private DnsGatewayListProvider Provider(string gateways, Func<string, CancellationToken, Task<IPAddress[]>> resolve, TimeProvider? time = null) =>
        new(GatewayAddress.ParseList(gateways), RefreshPeriod, resolve, time ?? TimeProvider.System, _log.CreateLogger("test"));

    /// <summary>The endpoints of the gateway URIs, read back the way Orleans reads them.</summary>
    private static async Task<IPEndPoint[]> EndpointsAsync(DnsGatewayListProvider provider) =>
        (await provider.GetGateways()).Select(uri => uri.ToGatewayAddress()!.Endpoint).ToArray();

    private static IPEndPoint Endpoint(string address, int port) => new(IPAddress.Parse(address), port);

    /// <summary>A resolver whose answers the test sets; it counts the names it is asked.</summary>
    private sealed class ScriptedResolver
    {
        public Func<string, IPAddress[]> Answer { get; set; } = _ => throw new SocketException((int)SocketError.HostNotFound);

        public List<string> Asked { get; } = [];

        public Task<IPAddress[]> ResolveAsync(string host, CancellationToken cancellation)
        {
            Asked.Add(host);
            return Task.FromResult(Answer(host));
        }
    }

    [Fact]
    public async Task GetGateways_Localhost_ResolvesToLoopbackWithThePort()
    {
        var provider = Provider("localhost:30000", DnsGatewayListProvider.SystemResolver);

        var endpoints = await EndpointsAsync(provider);

        Assert.NotEmpty(endpoints);
        Assert.All(endpoints, e =>
        {
            Assert.True(IPAddress.IsLoopback(e.Address), $"{e.Address} is not loopback");
            Assert.Equal(30000, e.Port);
        });
    }

    [Fact]
    public async Task GetGateways_IpEntries_PassThroughWithoutResolving()
    {
        var resolver = new ScriptedResolver();
        var provider = Provider("10.0.0.5:30000,[fd00::5]:30001", resolver.ResolveAsync);

        Assert.Equal([Endpoint("10.0.0.5", 30000), Endpoint("fd00::5", 30001)], await EndpointsAsync(provider));
        Assert.Empty(resolver.Asked);
    }

    [Fact]
    public async Task GetGateways_GatewayUris_AreOrleansGatewayUris()
    {
        var provider = Provider("10.0.0.5:30000,[fd00::5]:30001", new ScriptedResolver().ResolveAsync);

        var uris = await provider.GetGateways();

        Assert.Equal([Endpoint("10.0.0.5", 30000).ToGatewayUri(), Endpoint("fd00::5", 30001).ToGatewayUri()], uris);
        Assert.All(uris, u => Assert.Equal("gwy.tcp", u.Scheme));
    }

    [Fact]
    public async Task GetGateways_UnresolvableName_IsLoggedAndLeftOut()
    {
        var provider = Provider("nonexistent.invalid:30000,127.0.0.1:30001", DnsGatewayListProvider.SystemResolver);

        Assert.Equal([Endpoint("127.0.0.1", 30001)], await EndpointsAsync(provider));
        var warning = Assert.Single(_log.Entries, e => e.EventId == 9002);
        Assert.Equal(LogLevel.Warning, warning.Level);
        Assert.Contains("nonexistent.invalid:30000", warning.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task GetGateways_NoNameResolves_GivesAnEmptyList()
    {
        var provider = Provider("nonexistent.invalid:30000,also-nonexistent.invalid:30001", new ScriptedResolver().ResolveAsync);

        Assert.Empty(await provider.GetGateways());
        Assert.Equal(2, _log.Entries.Count(e => e.EventId == 9002));
    }

    [Fact]
    public async Task GetGateways_NameWithSeveralAddresses_ListsEachWithThePort()
    {
        var resolver = new ScriptedResolver { Answer = _ => [IPAddress.Parse("10.0.0.1"), IPAddress.Parse("fd00::1"), IPAddress.Parse("10.0.0.2")] };
        var provider = Provider("silo.example:30000", resolver.ResolveAsync);

        Assert.Equal([Endpoint("10.0.0.1", 30000), Endpoint("fd00::1", 30000), Endpoint("10.0.0.2", 30000)], await EndpointsAsync(provider));
        Assert.Equal(["silo.example"], resolver.Asked);
    }

    [Fact]
    public async Task GetGateways_AnswerChanges_FollowsTheNewAddresses()
    {
        var resolver = new ScriptedResolver { Answer = _ => [IPAddress.Parse("10.0.0.1")] };
        var provider = Provider("silo.example:30000", resolver.ResolveAsync);
        Assert.Equal([Endpoint("10.0.0.1", 30000)], await EndpointsAsync(provider));

        resolver.Answer = _ => [IPAddress.Parse("10.0.0.2"), IPAddress.Parse("10.0.0.3")];

        Assert.Equal([Endpoint("10.0.0.2", 30000), Endpoint("10.0.0.3", 30000)], await EndpointsAsync(provider));
        Assert.Equal(2, resolver.Asked.Count);
        Assert.Equal(2, _log.Entries.Count(e => e.EventId == 9001));
    }

    [Fact]
    public async Task GetGateways_SameAnswerInAnotherOrder_IsNotLoggedAsAChange()
    {
        var resolver = new ScriptedResolver { Answer = _ => [IPAddress.Parse("10.0.0.1"), IPAddress.Parse("10.0.0.2")] };
        var provider = Provider("silo.example:30000", resolver.ResolveAsync);
        await provider.GetGateways();

        resolver.Answer = _ => [IPAddress.Parse("10.0.0.2"), IPAddress.Parse("10.0.0.1")];
        await provider.GetGateways();

        Assert.Single(_log.Entries, e => e.EventId == 9001);
    }

    [Fact]
    public async Task GetGateways_NameFailsAfterResolving_KeepsItsLastAddresses()
    {
        var resolver = new ScriptedResolver { Answer = _ => [IPAddress.Parse("10.0.0.1")] };
        var provider = Provider("silo.example:30000", resolver.ResolveAsync);
        await provider.GetGateways();

        resolver.Answer = _ => throw new SocketException((int)SocketError.TryAgain);

        Assert.Equal([Endpoint("10.0.0.1", 30000)], await EndpointsAsync(provider));
        var kept = Assert.Single(_log.Entries, e => e.EventId == 9003);
        Assert.Contains("10.0.0.1", kept.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task GetGateways_ResolverHangs_TimesOutAndLeavesTheNameOut()
    {
        var time = new FakeTimeProvider();
        var never = new TaskCompletionSource<IPAddress[]>();
        var provider = Provider("silo.example:30000,10.0.0.5:30000", (_, _) => never.Task, time);

        var pending = provider.GetGateways();
        Assert.False(pending.IsCompleted);
        time.Advance(DnsGatewayListProvider.DefaultResolveTimeout);

        // The wall-clock bound only turns a provider that waits for ever into a failure instead of a hung run.
        Assert.Equal([Endpoint("10.0.0.5", 30000).ToGatewayUri()], await pending.WaitAsync(TimeSpan.FromSeconds(30)));
        Assert.Contains(_log.Entries, e => e.EventId == 9002 && e.Message.Contains("no answer within 10 s", StringComparison.Ordinal));
    }

    [Fact]
    public async Task GetGateways_ResolverAnswersNothingUsable_LeavesTheNameOut()
    {
        var resolver = new ScriptedResolver { Answer = _ => [IPAddress.Parse("fe80::1%2")] };
        var provider = Provider("silo.example:30000", resolver.ResolveAsync);

        Assert.Empty(await provider.GetGateways());
        Assert.Contains(_log.Entries, e => e.EventId == 9002 && e.Message.Contains("no IPv4 or IPv6 address", StringComparison.Ordinal));
    }

    [Fact]
    public async Task GetGateways_EntriesWithTheSameAddress_ListItOnce()
    {
        var resolver = new ScriptedResolver { Answer = _ => [IPAddress.Parse("10.0.0.5")] };
        var provider = Provider("silo.example:30000,10.0.0.5:30000,silo.example.:30000", resolver.ResolveAsync);

        Assert.Equal([Endpoint("10.0.0.5", 30000)], await EndpointsAsync(provider));
    }

    [Fact]
    public void MaxStaleness_IsTheRefreshPeriod()
    {
        Assert.Equal(RefreshPeriod, Provider("10.0.0.5:30000", new ScriptedResolver().ResolveAsync).MaxStaleness);
    }
}

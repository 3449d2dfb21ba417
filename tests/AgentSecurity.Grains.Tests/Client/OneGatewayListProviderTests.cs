using AgentSecurity.Client.Gateways;
using Microsoft.Extensions.Time.Testing;
using Orleans.Messaging;

namespace AgentSecurity.Grains.Tests.Client;

/// <summary>The client's gateway, one at a time: kept while connected and listed, another once lost.</summary>
public sealed class OneGatewayListProviderTests
{
    private static readonly Uri[] Three = [new("gwy.tcp://10.0.0.1:30000/0"), new("gwy.tcp://10.0.0.2:30000/0"), new("gwy.tcp://10.0.0.3:30000/0")];

    private readonly FakeTimeProvider _time = new();
    private readonly Listed _listed = new() { Gateways = [.. Three] };

    [Fact]
    public async Task GetGateways_Again_IsTheSameOneGateway()
    {
        var provider = new OneGatewayListProvider(_listed, _time);

        var first = Assert.Single(await provider.GetGateways());
        for (var i = 0; i < 20; i++)
        {
            Assert.Equal([first], await provider.GetGateways());
        }

        Assert.Contains(first, Three);
    }

    [Fact]
    public async Task GetGateways_ManyClients_SpreadOverTheGateways()
    {
        var chosen = new HashSet<Uri>();
        for (var i = 0; i < 100; i++)
        {
            chosen.Add(Assert.Single(await new OneGatewayListProvider(_listed, _time).GetGateways()));
        }

        Assert.Equal(Three.Length, chosen.Count);
    }

    [Fact]
    public async Task GetGateways_ItsGatewayNoLongerListed_IsAnotherListed()
    {
        var provider = new OneGatewayListProvider(_listed, _time);
        var first = Assert.Single(await provider.GetGateways());
        _listed.Gateways = [.. Three.Where(g => g != first)];

        var next = Assert.Single(await provider.GetGateways());

        Assert.NotEqual(first, next);
        Assert.Contains(next, Three);
    }

    [Fact]
    public async Task NotifyGatewayCountChanged_ConnectionLost_IsAnotherGatewayUntilThePassOverEnds()
    {
        _listed.Gateways = [.. Three[..2]];
        var provider = new OneGatewayListProvider(_listed, _time);
        var first = Assert.Single(await provider.GetGateways());

        provider.NotifyGatewayCountChanged(0, 1, connectionRecovered: false);
        var second = Assert.Single(await provider.GetGateways());
        provider.NotifyGatewayCountChanged(1, 0, connectionRecovered: true);

        Assert.NotEqual(first, second);
        Assert.Equal([second], await provider.GetGateways());
    }

    [Fact]
    public async Task NotifyGatewayCountChanged_TheOnlyGatewayLost_IsItAgain()
    {
        _listed.Gateways = [Three[0]];
        var provider = new OneGatewayListProvider(_listed, _time);
        Assert.Single(await provider.GetGateways());

        provider.NotifyGatewayCountChanged(0, 1, connectionRecovered: false);

        Assert.Equal([Three[0]], await provider.GetGateways());
    }

    [Fact]
    public async Task GetGateways_ItsGatewayNeverConnected_IsAnotherOnceTheFirstConnectionWaitEnds()
    {
        _listed.Gateways = [.. Three[..2]];
        var provider = new OneGatewayListProvider(_listed, _time);
        var first = Assert.Single(await provider.GetGateways());

        _time.Advance(OneGatewayListProvider.FirstConnectionWithin);
        Assert.Equal([first], await provider.GetGateways());
        _time.Advance(TimeSpan.FromSeconds(1));
        var second = Assert.Single(await provider.GetGateways());

        Assert.NotEqual(first, second);
    }

    [Fact]
    public async Task GetGateways_ItsGatewayConnected_IsKeptPastTheFirstConnectionWait()
    {
        var provider = new OneGatewayListProvider(_listed, _time);
        var first = Assert.Single(await provider.GetGateways());
        provider.NotifyGatewayCountChanged(1, 0, connectionRecovered: false);

        _time.Advance(TimeSpan.FromMinutes(10));

        Assert.Equal([first], await provider.GetGateways());
    }

    [Fact]
    public async Task GetGateways_NoneListed_IsNone()
    {
        _listed.Gateways = [];

        Assert.Empty(await new OneGatewayListProvider(_listed, _time).GetGateways());
    }

    private sealed class Listed : IGatewayListProvider
    {
        public IList<Uri> Gateways { get; set; } = [];

        public TimeSpan MaxStaleness => TimeSpan.FromMinutes(1);

        [Obsolete("Orleans no longer reads it")]
        public bool IsUpdatable => true;

        public Task InitializeGatewayListProvider() => Task.CompletedTask;

        public Task<IList<Uri>> GetGateways() => Task.FromResult<IList<Uri>>([.. Gateways]);
    }
}

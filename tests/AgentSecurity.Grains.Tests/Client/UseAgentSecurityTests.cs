using System.Net;
using AgentSecurity.Client;
using AgentSecurity.Client.Gateways;
using Azure.Core;
using Azure.Data.Tables;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Clustering.AzureStorage;
using Orleans.Configuration;
using Orleans.Messaging;

namespace AgentSecurity.Grains.Tests.Client;

/// <summary>How <c>UseAgentSecurity</c> configures the Orleans client: the gateway list it finds the cluster by, and its ids.</summary>
public sealed class UseAgentSecurityTests
{
    private readonly RecordingLoggerProvider _log = new();

    private IHost Build(Action<IClientBuilder> configure)
    {
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Logging.AddProvider(_log);
        return builder.UseOrleansClient(configure).Build();
    }

    private static async Task<IPEndPoint[]> GatewaysAsync(IHost host) =>
        (await Listed(host).GetGateways()).Select(u => u.ToGatewayAddress()!.Endpoint).ToArray();

    /// <summary>The list the client chooses its one gateway from.</summary>
    private static IGatewayListProvider Listed(IHost host) => host.Services.GetRequiredService<OneGatewayListProvider>().Inner;

    [Fact]
    public async Task UseAgentSecurity_NoArguments_ConnectsToTheLocalSilosGateway()
    {
        using var host = Build(client => client.UseAgentSecurity());

        Assert.Equal([new IPEndPoint(IPAddress.Loopback, 30000)], await GatewaysAsync(host));
        var cluster = host.Services.GetRequiredService<IOptions<ClusterOptions>>().Value;
        Assert.Equal(("agentsec-dev", "agentsec"), (cluster.ClusterId, cluster.ServiceId));
        Assert.NotNull(host.Services.GetService<AgentSecurityClient>());
    }

    [Fact]
    public async Task UseAgentSecurity_DnsName_IsResolvedWhenOrleansAsksForTheGateways()
    {
        using var host = Build(client => client.UseAgentSecurity("localhost:30123,10.0.0.5:30000", "c1", "s1"));

        Assert.IsType<DnsGatewayListProvider>(Listed(host));
        var gateways = await GatewaysAsync(host);
        Assert.Contains(gateways, g => IPAddress.IsLoopback(g.Address) && g.Port == 30123);
        Assert.Contains(new IPEndPoint(IPAddress.Parse("10.0.0.5"), 30000), gateways);
        var cluster = host.Services.GetRequiredService<IOptions<ClusterOptions>>().Value;
        Assert.Equal(("c1", "s1"), (cluster.ClusterId, cluster.ServiceId));
    }

    [Fact]
    public void UseAgentSecurity_RefreshPeriod_IsTheListsMaxStaleness()
    {
        using var host = Build(client => client.UseAgentSecurity("localhost:30000")
            .Configure<GatewayOptions>(o => o.GatewayListRefreshPeriod = TimeSpan.FromSeconds(7)));

        Assert.Equal(TimeSpan.FromSeconds(7), host.Services.GetRequiredService<IGatewayListProvider>().MaxStaleness);
    }

    [Theory]
    [InlineData("silo.example")]
    [InlineData("silo.example:0")]
    [InlineData(":30000")]
    [InlineData("10.0.0.5:30000,silo.example:")]
    public void UseAgentSecurity_BadGateway_ThrowsFormatExceptionAtConfiguration(string gateways)
    {
        var e = Assert.Throws<FormatException>(() => Build(client => client.UseAgentSecurity(gateways)));

        Assert.Contains(gateways.Split(',')[^1], e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void UseAgentSecurity_EmptyClusterId_ThrowsArgumentException()
    {
        var e = Assert.Throws<ArgumentException>(() => Build(client => client.UseAgentSecurity(o => o.ClusterId = " ")));

        Assert.Contains("cluster id", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task StartAsync_NoGatewayResolves_FailsWithOrleansNoGatewayErrorAndLogsTheName()
    {
        // Orleans retries a start without gateways for about three minutes by default (a name may resolve meanwhile, and
        // is then found, since it is resolved at every attempt); one attempt shows the error it ends with.
        using var host = Build(client => client.UseAgentSecurity("nonexistent.invalid:30000")
            .UseConnectionRetryFilter((_, _) => Task.FromResult(false)));

        var e = await Assert.ThrowsAsync<SiloUnavailableException>(() => host.StartAsync());

        Assert.Contains("Could not find any gateway", e.Message, StringComparison.Ordinal);
        Assert.Contains(_log.Entries, l => l.EventId == 9002 && l.Message.Contains("nonexistent.invalid:30000", StringComparison.Ordinal));
    }

    [Fact]
    public void UseAgentSecurity_AzureTableByConnectionString_DiscoversFromOrleansDefaultTable()
    {
        using var host = Build(client => client.UseAgentSecurity(o =>
        {
            o.AzureTable = new AzureTableGatewayDiscovery("UseDevelopmentStorage=true");
            o.ClusterId = "prod";
        }));

        Assert.Equal("Orleans.AzureUtils.AzureGatewayListProvider", Listed(host).GetType().FullName);
        Assert.IsType<OneGatewayListProvider>(host.Services.GetRequiredService<IGatewayListProvider>());
        var table = host.Services.GetRequiredService<IOptions<AzureStorageGatewayOptions>>().Value;
        Assert.Equal("OrleansSiloInstances", table.TableName);
        Assert.Equal("devstoreaccount1", table.TableServiceClient!.AccountName);
        Assert.Equal("prod", host.Services.GetRequiredService<IOptions<ClusterOptions>>().Value.ClusterId);
    }

    [Fact]
    public void UseAgentSecurity_AzureTableWithTokenCredential_UsesTheGivenClientAndTable()
    {
        var tables = new TableServiceClient(new Uri("https://platformstore.table.core.windows.net"), new NoCredential());

        using var host = Build(client => client.UseAgentSecurity(o => o.AzureTable = new AzureTableGatewayDiscovery(tables, "agentsecmembership")));

        var table = host.Services.GetRequiredService<IOptions<AzureStorageGatewayOptions>>().Value;
        Assert.Same(tables, table.TableServiceClient);
        Assert.Equal("agentsecmembership", table.TableName);
    }

    [Fact]
    public void UseAgentSecurity_GatewaysAndAzureTable_ThrowsArgumentExceptionAskingForOne()
    {
        var e = Assert.Throws<ArgumentException>(() => Build(client => client.UseAgentSecurity(o =>
        {
            o.Gateways = "localhost:30000";
            o.AzureTable = new AzureTableGatewayDiscovery("UseDevelopmentStorage=true");
        })));

        Assert.Contains("not both", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AzureTableGatewayDiscovery_EmptyTableName_ThrowsArgumentException()
    {
        Assert.Throws<ArgumentException>(() => new AzureTableGatewayDiscovery("UseDevelopmentStorage=true", " "));
    }

    /// <summary>A token credential that is never asked: nothing here reaches storage.</summary>
    private sealed class NoCredential : TokenCredential
    {
        public override AccessToken GetToken(TokenRequestContext requestContext, CancellationToken cancellationToken) =>
            throw new InvalidOperationException("no storage call is expected");

        public override ValueTask<AccessToken> GetTokenAsync(TokenRequestContext requestContext, CancellationToken cancellationToken) =>
            throw new InvalidOperationException("no storage call is expected");
    }
}

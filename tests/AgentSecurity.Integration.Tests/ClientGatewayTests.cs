using AgentSecurity.Abstractions;
using AgentSecurity.Abstractions.Audit;
using AgentSecurity.Client;
using AgentSecurity.Grains.Tests.Infrastructure;
using AgentSecurity.Integration.Tests.Infrastructure;
using AgentSecurity.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Orleans.Messaging;
using Orleans.Streams;

namespace AgentSecurity.Integration.Tests;

/// <summary>
/// The typed client as a platform configures it, against a real silo process: gateways by DNS name, or discovered from
/// the silos' membership table; and events received with no stream provider in the client.
/// </summary>
[Collection(ClusterProcessCollection.Name)]
public sealed class ClientGatewayTests(ClusterProcessFixture cluster)
{
    private async Task<IHost> StartAsync(Action<AgentSecurityClientOptions> configure, Grants.Crypto.SigningKey? principal = null)
    {
        var host = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings())
            .UseOrleansClient(client => client.UseAgentSecurity(configure).UseAgentSecuritySession(principal ?? cluster.Operator).UseAgentSecurityTls(cluster.ClientTls))
            .Build();
        using var limit = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        try
        {
            await host.StartAsync(limit.Token);
        }
        catch
        {
            host.Dispose();
            throw;
        }

        return host;
    }

    private static async Task<string> NewTenantAsync(AgentSecurityClient client, Grants.Crypto.SigningKey @operator)
    {
        var tenant = "gw-" + Guid.NewGuid().ToString("N")[..12];
        var created = await client.CreateTenantAsync(TestDocuments.Tenant(tenant, DateTimeOffset.UtcNow.AddMinutes(-1), TestKeys.Root.Did.Value).SignWith(@operator));
        Assert.True(created.Error is null, $"{created.Error}: {created.Message}");
        return tenant;
    }

    [Fact]
    public async Task UseAgentSecurity_GatewayByDnsName_ConnectsAndReceivesEventsWithoutAStreamProvider()
    {
        using var host = await StartAsync(o =>
        {
            o.Gateways = $"localhost:{cluster.Silo.GatewayPort}";
            o.ClusterId = cluster.ClusterId;
        });
        var client = host.Services.GetRequiredService<AgentSecurityClient>();

        // Events come through the tenant's audit grain to an observer: the client has no stream provider, and needs none.
        Assert.Null(host.Services.GetKeyedService<IStreamProvider>(AuditStreams.ProviderName));
        var tenant = await NewTenantAsync(client, cluster.Operator);
        var applied = new TaskCompletionSource<SecurityEvent>(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var subscription = await client.SubscribeAsync(tenant, e =>
        {
            if (e.Type == SecurityEventTypes.GrantApplied)
            {
                applied.TrySetResult(e);
            }

            return Task.CompletedTask;
        });
        var grant = await client.ApplyGrantAsync(TestDocuments.Grant(tenant, "bot", DateTimeOffset.UtcNow.AddMinutes(-1), "g-dns").SignWith(TestKeys.Root));
        Assert.True(grant.Applied, $"{grant.Error}: {grant.Message}");

        var e = await applied.Task.WaitAsync(TimeSpan.FromSeconds(60));
        Assert.Equal((tenant, "bot"), (e.TenantId, e.AgentId));
        Assert.True((await client.CheckAsync(tenant, "bot", CheckRequests.Fetch("https://api.example.com/v1"))).Allowed);
    }

    [Fact]
    public async Task UseAgentSecurity_AzureTableDiscovery_FindsTheSiloInTheMembershipTable()
    {
        using var host = await StartAsync(o =>
        {
            o.AzureTable = new AzureTableGatewayDiscovery(cluster.StorageConnectionString);
            o.ClusterId = cluster.ClusterId;
        });
        var client = host.Services.GetRequiredService<AgentSecurityClient>();

        var gateways = await host.Services.GetRequiredService<IGatewayListProvider>().GetGateways();
        Assert.Contains(gateways, g => g.ToGatewayAddress()!.Endpoint.Port == cluster.Silo.GatewayPort);
        var tenant = await NewTenantAsync(client, cluster.Operator);
        Assert.Equal(tenant, (await client.GetTenantAsync(tenant))?.TenantId);
    }

    /// <summary>
    /// Orleans' gateway forwards any message a client writes, and a client completes its waiting call with any response
    /// that names the call's id. Over the silo's TLS gateway, a stranger's client answers a tenant client's waiting
    /// execution: the silo's gate drops the answer, and the call gets its own.
    /// </summary>
    [Fact]
    public async Task ForgedAnswer_ToAnotherClientsWaitingCall_IsDroppedByTheTlsGateway()
    {
        void Gateway(AgentSecurityClientOptions o)
        {
            o.Gateways = $"localhost:{cluster.Silo.GatewayPort}";
            o.ClusterId = cluster.ClusterId;
        }

        using var victimHost = await StartAsync(Gateway);
        using var attackerHost = await StartAsync(Gateway, TestKeys.FromByte(0x66));
        var victim = victimHost.Services.GetRequiredService<AgentSecurityClient>();
        var tenant = await NewTenantAsync(victim, cluster.Operator);
        var grant = await victim.ApplyGrantAsync(TestDocuments.Grant(tenant, "bot", DateTimeOffset.UtcNow.AddMinutes(-1), "g-forged")
            .SetJson("resourceLimits", """{"maxCpuMillis":60000,"maxWallMillis":2000}""").SignWith(TestKeys.Root));
        Assert.True(grant.Applied, $"{grant.Error}: {grant.Message}");

        // Code that runs until its wall-clock limit (2 s): the window in which the answer is forged (the guessed id is
        // read from the victim's client here).
        var waiting = victim.ExecuteAsync(tenant, "bot", new ExecutionRequest { Runtime = "js", Code = "agentsec.output('real'); while (true) { }"u8.ToArray() });
        var (id, caller) = await ForgedMessages.WaitingCallAsync(victimHost.Services, tenant);
        ForgedMessages.SendResponse(attackerHost.Services, id, caller, new ExecutionResult { Ok = true, Output = "forged" });

        var result = await waiting.WaitAsync(TimeSpan.FromSeconds(60));

        Assert.Equal((false, Grants.ReasonCodes.Timeout, "real"), (result.Ok, result.Error, result.Output));
    }
}

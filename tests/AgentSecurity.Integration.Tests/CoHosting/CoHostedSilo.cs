using AgentSecurity.Hosting;
using AgentSecurity.Integration.Tests.Infrastructure;
using AgentSecurity.Testing;
using Azure.Data.Tables;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Orleans.Runtime;

namespace AgentSecurity.Integration.Tests.CoHosting;

/// <summary>
/// A platform's silo in this process, on Azure Storage: its own default grain storage (Orleans' default serializer), its
/// own stream provider with its own <c>PubSubStore</c>, its own clustering; and the kernel, added as docs/embedding.md
/// says, with no sandboxes.
/// </summary>
internal sealed class CoHostedSilo : IAsyncDisposable
{
    public const string PlatformStateTable = "platformstate";
    public const string PlatformPubSubTable = "platformpubsub";

    private const string ClusterId = "platform";

    private readonly IHost _host;
    private readonly string _serviceId;
    private readonly int _gatewayPort;

    private CoHostedSilo(IHost host, string serviceId, int gatewayPort)
    {
        _host = host;
        _serviceId = serviceId;
        _gatewayPort = gatewayPort;
    }

    /// <summary>The silo's own grain factory: the platform's code calling the platform's grains.</summary>
    public IGrainFactory Grains => _host.Services.GetRequiredService<IGrainFactory>();

    public static async Task<CoHostedSilo> StartAsync(string storage, string serviceId, int siloPort, int gatewayPort, string? auditKeyFile,
        string environment = "Production", string? namePrefix = null, ILoggerProvider? log = null)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { EnvironmentName = environment, DisableDefaults = true });
        if (log is not null)
        {
            builder.Logging.AddProvider(log);
        }

        if (auditKeyFile is not null)
        {
            builder.Configuration["AgentSecurity:Audit:KeyFile"] = auditKeyFile;
        }

        builder.UseOrleans(silo =>
        {
            // The platform's choices, untouched by the kernel.
            silo.UseLocalhostClustering(siloPort, gatewayPort, serviceId: serviceId, clusterId: ClusterId);
            silo.AddAzureTableGrainStorageAsDefault(o =>
            {
                o.TableServiceClient = new TableServiceClient(storage);
                o.TableName = PlatformStateTable;
            });
            silo.AddAzureTableGrainStorage("PubSubStore", o =>
            {
                o.TableServiceClient = new TableServiceClient(storage);
                o.TableName = PlatformPubSubTable;
            });
            silo.AddMemoryStreams(PlatformNotesGrain.StreamProvider);

            // The kernel: two lines, and its settings.
            silo.AddAgentSecurity(o => o.OperatorDid = TestKeys.Operator.Did.Value);
            silo.UseAgentSecurityAzureStorage(o =>
            {
                o.ConnectionString = storage;
                o.NamePrefix = namePrefix;
            });
        });
        var host = builder.Build();
        try
        {
            await host.StartAsync();
        }
        catch
        {
            host.Dispose();
            throw;
        }

        return new CoHostedSilo(host, serviceId, gatewayPort);
    }

    /// <summary>Publishes on the platform's own stream, from inside the silo, as the platform's code would.</summary>
    public Task PublishAsync(string key, string item) => PublishAsync(StreamId.Create("notes", key), item);

    /// <summary>Publishes anything on any stream of the platform's own provider.</summary>
    public Task PublishAsync<T>(StreamId stream, T item) =>
        _host.Services.GetRequiredService<IClusterClient>().GetStreamProvider(PlatformNotesGrain.StreamProvider)
            .GetStream<T>(stream).OnNextAsync(item);

    /// <summary>A separate service of the platform calling the kernel through the gateway, as the operator.</summary>
    public Task<OrleansClientHost> ConnectServiceAsync() =>
        OrleansClientHost.StartAsync($"127.0.0.1:{_gatewayPort}", ClusterId, TestKeys.Operator, tls: null, serviceId: _serviceId);

    /// <summary>The platform's own Orleans client, with no session: it calls the platform's grains, as it did before the kernel came.</summary>
    public async Task<PlatformClient> ConnectPlatformClientAsync()
    {
        var host = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings())
            .UseOrleansClient(client => client.UseLocalhostClustering(_gatewayPort, serviceId: _serviceId, clusterId: ClusterId))
            .Build();
        await host.StartAsync();
        return new PlatformClient(host);
    }

    internal sealed class PlatformClient(IHost host) : IAsyncDisposable
    {
        public TGrain GetGrain<TGrain>(string key) where TGrain : IGrainWithStringKey => host.Services.GetRequiredService<IClusterClient>().GetGrain<TGrain>(key);

        public async ValueTask DisposeAsync()
        {
            await host.StopAsync();
            host.Dispose();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _host.StopAsync();
        _host.Dispose();
    }
}

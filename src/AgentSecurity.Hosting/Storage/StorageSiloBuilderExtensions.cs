using AgentSecurity.Abstractions.Audit;
using AgentSecurity.Grains;
using AgentSecurity.Grains.Audit;
using AgentSecurity.Grains.Memory;
using AgentSecurity.Hosting.Storage;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Orleans.Configuration;
using Orleans.Serialization;
using Orleans.Storage;
using Orleans.Streams;

namespace AgentSecurity.Hosting;

public static class StorageSiloBuilderExtensions
{
    /// <summary>Azure Storage for everything the kernel keeps, from one connection string.</summary>
    public static ISiloBuilder UseAgentSecurityAzureStorage(this ISiloBuilder silo, string connectionString) =>
        silo.UseAgentSecurityAzureStorage(o => o.ConnectionString = connectionString);

    /// <summary>
    /// Azure Storage for everything the kernel keeps (section <c>AgentSecurity:Storage</c>, then
    /// <paramref name="configure"/>): agents' and tenants' state in a table, issuers' state in blobs (one per tenant,
    /// growing with its live grants), agents' memory in blobs (one per key), audit logs in a table, and security events
    /// in Azure Queue streams, durable once a publish returns.
    /// </summary>
    /// <remarks>
    /// Only the kernel's own named providers are added (<see cref="StorageNames.Grains"/>, <see cref="StorageNames.Issuers"/>,
    /// the stream provider <see cref="AuditStreams.ProviderName"/>), each with the kernel's serializer: the silo's default
    /// grain storage serializer, its <c>PubSubStore</c> and its clustering stay the host's.
    /// </remarks>
    public static ISiloBuilder UseAgentSecurityAzureStorage(this ISiloBuilder silo, Action<AgentSecurityStorageOptions> configure)
    {
        silo.Services.AddOptions<AgentSecurityStorageOptions>()
            .Bind(silo.Configuration.GetSection(AgentSecurityStorageOptions.SectionName))
            .Configure(configure)
            .ValidateOnStart();
        silo.Services.AddSingleton<IValidateOptions<AgentSecurityStorageOptions>, KernelStorageValidator>();
        silo.Services.AddSingleton<KernelStorage>();
        silo.Services.AddSingleton<ILifecycleParticipant<ISiloLifecycle>, KernelStorageOwnership>();

        silo.AddAzureTableGrainStorage(StorageNames.Grains, (OptionsBuilder<AzureTableStorageOptions> options) => options.Configure<IServiceProvider>((o, services) =>
        {
            var storage = services.GetRequiredService<KernelStorage>();
            o.TableServiceClient = storage.Tables;
            o.TableName = storage.Names.GrainsTable;
            o.GrainStorageSerializer = KernelSerializer(services);
        }));
        silo.AddAzureBlobGrainStorage(StorageNames.Issuers, (OptionsBuilder<AzureBlobStorageOptions> options) => options.Configure<IServiceProvider>((o, services) =>
        {
            var storage = services.GetRequiredService<KernelStorage>();
            o.BlobServiceClient = storage.Blobs;
            o.ContainerName = storage.Names.IssuersContainer;
            o.GrainStorageSerializer = KernelSerializer(services);
        }));
        silo.Services.AddSingleton<IAgentMemoryStore>(services =>
        {
            var storage = services.GetRequiredService<KernelStorage>();
            return new AzureBlobAgentMemoryStore(storage.Blobs, storage.Names.MemoryContainer);
        });
        silo.Services.AddSingleton<IAuditLogStore>(services =>
        {
            var storage = services.GetRequiredService<KernelStorage>();
            return new AzureTableAuditLogStore(storage.Tables, storage.Names.AuditLogTable);
        });

        silo.AddAzureQueueStreams(AuditStreams.ProviderName, stream =>
        {
            // The audit grains are the stream's only subscribers, and implicit ones: no subscription to keep, so no
            // pub-sub store at all (the host's PubSubStore stays the host's), and no client subscribes to raw events
            // past the audit grains' authorization (a grain in the silo could, by declaring an implicit subscription:
            // code in the silo is trusted, docs/embedding.md).
            stream.ConfigureStreamPubSub(StreamPubSubType.ImplicitOnly);
            stream.ConfigureAzureQueue(o => o.Configure<IServiceProvider>((q, services) =>
            {
                var storage = services.GetRequiredService<KernelStorage>();
                q.QueueServiceClient = storage.Queues;
                q.QueueNames = [.. storage.Names.AuditQueues];
            }));
            stream.ConfigurePullingAgent(o => o.Configure(p =>
            {
                // Batches of up to 256 messages reach the audit grain in one delivery, which it appends in as few table
                // transactions.
                p.BatchContainerBatchSize = 256;

                // An idle queue is polled this often; a queue with messages is read without pause. Every poll of the
                // eight queues is a storage request (80 a second for the cluster, on a quiet cluster too), and half the
                // period is the typical wait of an event on a quiet stream.
                p.GetQueueMsgsTimerPeriod = TimeSpan.FromMilliseconds(100);
            }));
        });
        return silo;
    }

    /// <summary>
    /// System.Text.Json with the kernel's own named settings: the kernel's state is written for it, and a host that
    /// configures the default settings for its own grains does not change how the kernel's state reads back.
    /// </summary>
    private static SystemTextJsonGrainStorageSerializer KernelSerializer(IServiceProvider services) =>
        new(Options.Create(services.GetRequiredService<IOptionsMonitor<SystemTextJsonGrainStorageSerializerOptions>>().Get(StorageNames.Grains)));
}

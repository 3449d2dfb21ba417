using Azure.Data.Tables;
using Azure.Identity;
using Azure.Storage.Blobs;
using Azure.Storage.Queues;
using Microsoft.Extensions.Options;
using Orleans.Configuration;

namespace AgentSecurity.Hosting.Storage;

/// <summary>
/// The kernel's storage services and names, resolved once from <see cref="AgentSecurityStorageOptions"/>. Clients it
/// makes retry within <see cref="StorageRetry"/>'s bounds; clients the host gives keep the host's options.
/// </summary>
public sealed class KernelStorage
{
    public KernelStorage(IOptions<AgentSecurityStorageOptions> options, IOptions<ClusterOptions> cluster)
    {
        var o = options.Value;
        ServiceId = cluster.Value.ServiceId;
        if (KernelStorageValidator.Failures(o, ServiceId) is { Count: > 0 } failures)
        {
            throw new OptionsValidationException(AgentSecurityStorageOptions.SectionName, typeof(AgentSecurityStorageOptions), failures);
        }

        Names = new KernelStorageNames(StorageNamePrefix.Resolve(o.NamePrefix, ServiceId).Prefix!);
        var credential = new Lazy<Azure.Core.TokenCredential>(() => o.Credential ?? new DefaultAzureCredential());
        Tables = o.TableServiceClient
            ?? (o.TableServiceUri is { } tables ? new TableServiceClient(tables, credential.Value, StorageRetry.Bounded(new TableClientOptions())) : new TableServiceClient(o.ConnectionString, StorageRetry.Bounded(new TableClientOptions())));
        Blobs = o.BlobServiceClient
            ?? (o.BlobServiceUri is { } blobs ? new BlobServiceClient(blobs, credential.Value, StorageRetry.Bounded(new BlobClientOptions())) : new BlobServiceClient(o.ConnectionString, StorageRetry.Bounded(new BlobClientOptions())));
        Queues = o.QueueServiceClient
            ?? (o.QueueServiceUri is { } queues ? new QueueServiceClient(queues, credential.Value, StorageRetry.Bounded(new QueueClientOptions())) : new QueueServiceClient(o.ConnectionString, StorageRetry.Bounded(new QueueClientOptions())));
    }

    public KernelStorageNames Names { get; }

    /// <summary>The service whose state these names hold.</summary>
    public string ServiceId { get; }

    public TableServiceClient Tables { get; }

    public BlobServiceClient Blobs { get; }

    public QueueServiceClient Queues { get; }
}

using Azure.Data.Tables;
using Azure.Identity;
using Azure.Storage.Blobs;
using Azure.Storage.Queues;
using Microsoft.Extensions.Options;
using Orleans.Configuration;

namespace AgentSecurity.Hosting.Storage;

/// <summary>The kernel's storage services and names, resolved once from <see cref="AgentSecurityStorageOptions"/>.</summary>
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
            ?? (o.TableServiceUri is { } tables ? new TableServiceClient(tables, credential.Value) : new TableServiceClient(o.ConnectionString));
        Blobs = o.BlobServiceClient
            ?? (o.BlobServiceUri is { } blobs ? new BlobServiceClient(blobs, credential.Value) : new BlobServiceClient(o.ConnectionString));
        Queues = o.QueueServiceClient
            ?? (o.QueueServiceUri is { } queues ? new QueueServiceClient(queues, credential.Value) : new QueueServiceClient(o.ConnectionString));
    }

    public KernelStorageNames Names { get; }

    /// <summary>The service whose state these names hold.</summary>
    public string ServiceId { get; }

    public TableServiceClient Tables { get; }

    public BlobServiceClient Blobs { get; }

    public QueueServiceClient Queues { get; }
}

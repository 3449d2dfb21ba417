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
        var (prefix, error) = StorageNamePrefix.Resolve(o.NamePrefix, cluster.Value.ServiceId);
        if (prefix is null)
        {
            throw new OptionsValidationException(AgentSecurityStorageOptions.SectionName, typeof(AgentSecurityStorageOptions), [error!]);
        }

        Names = new KernelStorageNames(prefix);
        ServiceId = cluster.Value.ServiceId;
        var credential = new Lazy<Azure.Core.TokenCredential>(() => o.Credential ?? new DefaultAzureCredential());
        Tables = o.TableServiceClient
            ?? (o.TableServiceUri is { } tables ? new TableServiceClient(tables, credential.Value)
            : new TableServiceClient(ConnectionString(o, "table")));
        Blobs = o.BlobServiceClient
            ?? (o.BlobServiceUri is { } blobs ? new BlobServiceClient(blobs, credential.Value)
            : new BlobServiceClient(ConnectionString(o, "blob")));
        Queues = o.QueueServiceClient
            ?? (o.QueueServiceUri is { } queues ? new QueueServiceClient(queues, credential.Value)
            : new QueueServiceClient(ConnectionString(o, "queue")));
    }

    public KernelStorageNames Names { get; }

    /// <summary>The service whose state these names hold.</summary>
    public string ServiceId { get; }

    public TableServiceClient Tables { get; }

    public BlobServiceClient Blobs { get; }

    public QueueServiceClient Queues { get; }

    private static string ConnectionString(AgentSecurityStorageOptions options, string service) =>
        options.ConnectionString is { Length: > 0 } connectionString
            ? connectionString
            : throw new OptionsValidationException(AgentSecurityStorageOptions.SectionName, typeof(AgentSecurityStorageOptions),
                [$"{AgentSecurityStorageOptions.SectionName}: no {service} service (a service client, a {service} service URI, or a ConnectionString)"]);
}

using Azure.Core;
using Azure.Data.Tables;
using Azure.Storage.Blobs;
using Azure.Storage.Queues;

namespace AgentSecurity.Hosting.Storage;

/// <summary>
/// Where the kernel keeps what it must not lose (configuration section <c>AgentSecurity:Storage</c>): agents' and
/// tenants' state, issuers' trust, the audit logs, agents' memory and the queues of security events.
/// </summary>
/// <remarks>
/// Each of the three services (tables, blobs, queues) comes from the first of: its service client; its URI with
/// <see cref="Credential"/> (<c>DefaultAzureCredential</c> when none is set); the
/// <see cref="ConnectionString"/>. A service with none of them stops the silo at start.
/// </remarks>
public sealed class AgentSecurityStorageOptions
{
    public const string SectionName = "AgentSecurity:Storage";

    /// <summary>The longest <see cref="NamePrefix"/>: with the longest suffix, every name stays within Azure's 63 characters.</summary>
    public const int MaxNamePrefixLength = 24;

    /// <summary>An Azure Storage connection string, for every service not given otherwise.</summary>
    public string? ConnectionString { get; set; }

    /// <summary>The table service's URI (with <see cref="Credential"/>), e.g. <c>https://ACCOUNT.table.core.windows.net</c>.</summary>
    public Uri? TableServiceUri { get; set; }

    /// <summary>The blob service's URI (with <see cref="Credential"/>).</summary>
    public Uri? BlobServiceUri { get; set; }

    /// <summary>The queue service's URI (with <see cref="Credential"/>).</summary>
    public Uri? QueueServiceUri { get; set; }

    /// <summary>Signs requests to the services given by URI; without it, <c>DefaultAzureCredential</c>.</summary>
    public TokenCredential? Credential { get; set; }

    public TableServiceClient? TableServiceClient { get; set; }

    public BlobServiceClient? BlobServiceClient { get; set; }

    public QueueServiceClient? QueueServiceClient { get; set; }

    /// <summary>
    /// Starts the name of every table, container and queue the kernel uses: a lowercase letter, then lowercase letters
    /// and digits, at most <see cref="MaxNamePrefixLength"/> characters. Default: the cluster's service id when it is
    /// such a prefix (<c>agentsec</c>), else one made from it (<see cref="StorageNamePrefix.FromServiceId"/>), so
    /// clusters of different services share an account without sharing state. A silo refuses to start on names that
    /// another service id wrote first.
    /// </summary>
    public string? NamePrefix { get; set; }
}

using Azure.Data.Tables;
using Orleans.Clustering.AzureStorage;

namespace AgentSecurity.Client;

/// <summary>
/// Finds the gateways in the cluster's membership table, where silos that use Azure Table clustering list themselves:
/// the client follows silos as they come and go, with no addresses configured.
/// </summary>
public sealed class AzureTableGatewayDiscovery
{
    /// <param name="tables">The storage account's table service, authenticated as the platform chooses (a <c>TokenCredential</c>, a SAS, a key).</param>
    /// <param name="tableName">The silos' membership table; null for Orleans' default (<c>OrleansSiloInstances</c>).</param>
    public AzureTableGatewayDiscovery(TableServiceClient tables, string? tableName = null)
    {
        ArgumentNullException.ThrowIfNull(tables);
        if (tableName is not null && string.IsNullOrWhiteSpace(tableName))
        {
            throw new ArgumentException("an empty table name: give the silos' membership table, or none for Orleans' default", nameof(tableName));
        }

        Tables = tables;
        TableName = tableName ?? AzureStorageClusteringOptions.DEFAULT_TABLE_NAME;
    }

    /// <param name="connectionString">The storage account's connection string.</param>
    /// <param name="tableName">The silos' membership table; null for Orleans' default (<c>OrleansSiloInstances</c>).</param>
    public AzureTableGatewayDiscovery(string connectionString, string? tableName = null)
        : this(FromConnectionString(connectionString), tableName)
    {
    }

    public TableServiceClient Tables { get; }

    public string TableName { get; }

    private static TableServiceClient FromConnectionString(string connectionString)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(connectionString);
        return new TableServiceClient(connectionString);
    }
}

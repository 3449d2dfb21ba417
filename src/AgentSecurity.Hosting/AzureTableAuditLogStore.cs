using System.Runtime.CompilerServices;
using Azure;
using Azure.Data.Tables;
using AgentSecurity.Audit.Chain;
using AgentSecurity.Grains.Audit;

namespace AgentSecurity.Hosting;

/// <summary>
/// Audit logs in Azure Table storage, one partition per tenant. Records are rows keyed <c>r</c> + the sequence number
/// in 19 digits (so key order is sequence order); the head is the row <c>head</c>, upserted in the same transaction
/// as the records it covers.
/// Checkpoints are rows keyed <c>c</c> + size in a second table.
/// </summary>
public sealed class AzureTableAuditLogStore(TableServiceClient service, string logTable = "agentsecaudit", string checkpointTable = "agentsecauditcheckpoints") : IAuditLogStore
{
    private readonly TableClient _log = service.GetTableClient(logTable);
    private readonly TableClient _checkpoints = service.GetTableClient(checkpointTable);
    private volatile bool _created;

    public static string RecordKey(long sequence) => "r" + sequence.ToString("D19", System.Globalization.CultureInfo.InvariantCulture);

    public async Task<AuditHead?> ReadHeadAsync(string tenant, CancellationToken cancellation = default)
    {
        await EnsureTablesAsync(cancellation);
        var head = await _log.GetEntityIfExistsAsync<TableEntity>(tenant, "head", cancellationToken: cancellation);
        if (!head.HasValue || head.Value is not { } entity)
        {
            return null;
        }

        var frontier = entity.GetString("Frontier") is { Length: > 0 } text ? text.Split(',') : [];
        return new AuditHead(entity.GetInt64("Sequence") ?? 0, entity.GetString("Hash") ?? AuditChain.Genesis, frontier);
    }

    /// <summary>The table service takes 100 operations per transaction: 99 records and the head.</summary>
    public int MaxRecordsPerAppend => 99;

    public async Task AppendAsync(string tenant, IReadOnlyList<AuditRecord> records, AuditHead head, CancellationToken cancellation = default)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(records.Count, MaxRecordsPerAppend);
        await EnsureTablesAsync(cancellation);
        var actions = records.Select(r => new TableTransactionAction(TableTransactionActionType.Add, new TableEntity(tenant, RecordKey(r.Sequence))
        {
            ["EventId"] = r.EventId,
            ["Event"] = r.EventJson,
            ["PreviousHash"] = r.PreviousHash,
            ["Hash"] = r.Hash,
        })).Append(new TableTransactionAction(TableTransactionActionType.UpsertReplace, new TableEntity(tenant, "head")
        {
            ["Sequence"] = head.Sequence,
            ["Hash"] = head.Hash,
            ["Frontier"] = string.Join(',', head.Frontier),
        }));
        await _log.SubmitTransactionAsync(actions, cancellation);
    }

    public async IAsyncEnumerable<AuditRecord> ReadAsync(string tenant, long first, long last, [EnumeratorCancellation] CancellationToken cancellation = default)
    {
        await EnsureTablesAsync(cancellation);
        var filter = TableClient.CreateQueryFilter($"PartitionKey eq {tenant} and RowKey ge {RecordKey(first)} and RowKey le {RecordKey(Math.Min(last, long.MaxValue - 1))}");
        await foreach (var entity in _log.QueryAsync<TableEntity>(filter, maxPerPage: 1000, cancellationToken: cancellation))
        {
            yield return new AuditRecord(
                long.TryParse(entity.RowKey.AsSpan(1), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var sequence) ? sequence : -1,
                entity.GetString("EventId") ?? string.Empty,
                entity.GetString("Event") ?? string.Empty,
                entity.GetString("PreviousHash") ?? string.Empty,
                entity.GetString("Hash") ?? string.Empty);
        }
    }

    public async Task AppendCheckpointAsync(string tenant, long size, string document, CancellationToken cancellation = default)
    {
        await EnsureTablesAsync(cancellation);
        await _checkpoints.UpsertEntityAsync(new TableEntity(tenant, "c" + size.ToString("D19", System.Globalization.CultureInfo.InvariantCulture)) { ["Document"] = document }, TableUpdateMode.Replace, cancellation);
    }

    public async Task<IReadOnlyList<string>> ReadCheckpointsAsync(string tenant, CancellationToken cancellation = default)
    {
        await EnsureTablesAsync(cancellation);
        var documents = new List<string>();
        await foreach (var entity in _checkpoints.QueryAsync<TableEntity>(TableClient.CreateQueryFilter($"PartitionKey eq {tenant}"), cancellationToken: cancellation))
        {
            documents.Add(entity.GetString("Document") ?? string.Empty);
        }

        return documents;
    }

    private async Task EnsureTablesAsync(CancellationToken cancellation)
    {
        if (!_created)
        {
            await _log.CreateIfNotExistsAsync(cancellation);
            await _checkpoints.CreateIfNotExistsAsync(cancellation);
            _created = true;
        }
    }
}

using System.Globalization;
using System.Runtime.CompilerServices;
using AgentSecurity.Abstractions.Audit;
using Azure;
using Azure.Data.Tables;
using AgentSecurity.Audit.Chain;
using AgentSecurity.Grains.Audit;

namespace AgentSecurity.Hosting;

/// <summary>
/// Audit logs in Azure Table storage, one partition per tenant. Consecutive records are stored together in pages: a
/// row keyed <c>p</c> + the page's first sequence number in 19 digits (key order is sequence order) holds up to
/// <see cref="RecordsPerPage"/> records as properties <c>Id{i}</c>, <c>Event{i}</c>, <c>Prev{i}</c>, <c>Hash{i}</c>.
/// Pages are only ever added, never rewritten; the head (row <c>head</c>) is upserted in the same transaction as the
/// pages it covers, and so is a checkpoint that falls due with them (row <c>c</c> + size in 19 digits); checkpoints
/// made on a timer are added alone.
/// </summary>
/// <remarks>
/// Pages, not a row per record, because the table service's cost and its partition throughput target (2,000
/// entities per second) are per entity: a tenant's log is one partition, and with 32 records a row it takes tens of
/// thousands of events per second where a row per record would take a few thousand.
/// </remarks>
public sealed class AzureTableAuditLogStore(TableServiceClient service, string logTable = "agentsecauditlog") : IAuditLogStore
{
    /// <summary>The most records in one page: part of the storage format (readers look this far back for a page).</summary>
    public const int RecordsPerPage = 32;

    /// <summary>A page closes early at this many characters of events, well inside the service's 1 MiB per entity.</summary>
    private const int PageCharacters = 128 * 1024;

    private readonly TableClient _log = service.GetTableClient(logTable);
    private volatile bool _created;

    public static string PageKey(long firstSequence) => "p" + firstSequence.ToString("D19", CultureInfo.InvariantCulture);

    public static string CheckpointKey(long size) => "c" + size.ToString("D19", CultureInfo.InvariantCulture);

    public async Task<AuditHead?> ReadHeadAsync(string tenant, CancellationToken cancellation = default)
    {
        await EnsureTableAsync(cancellation);
        var head = await _log.GetEntityIfExistsAsync<TableEntity>(tenant, "head", cancellationToken: cancellation);
        if (!head.HasValue || head.Value is not { } entity)
        {
            return null;
        }

        var frontier = entity.GetString("Frontier") is { Length: > 0 } text ? text.Split(',') : [];
        return new AuditHead(entity.GetInt64("Sequence") ?? 0, entity.GetString("Hash") ?? AuditChain.Genesis, frontier);
    }

    /// <summary>
    /// One transaction takes 100 entities and 4 MiB: 256 records are at most 8 full pages and, with events bounded by
    /// <see cref="SecurityEventBounds"/>, a few MiB in the worst case.
    /// </summary>
    public int MaxRecordsPerAppend => 256;

    public async Task AppendAsync(string tenant, IReadOnlyList<AuditRecord> records, AuditHead head, string? checkpoint = null, CancellationToken cancellation = default)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(records.Count, MaxRecordsPerAppend);
        await EnsureTableAsync(cancellation);
        var actions = Pages(records).Select(page => new TableTransactionAction(TableTransactionActionType.Add, ToEntity(tenant, page)))
            .Append(new TableTransactionAction(TableTransactionActionType.UpsertReplace, new TableEntity(tenant, "head")
            {
                ["Sequence"] = head.Sequence,
                ["Hash"] = head.Hash,
                ["Frontier"] = string.Join(',', head.Frontier),
            }));
        if (checkpoint is not null)
        {
            actions = actions.Append(new TableTransactionAction(TableTransactionActionType.UpsertReplace, Checkpoint(tenant, head.Sequence, checkpoint)));
        }

        await _log.SubmitTransactionAsync(actions, cancellation);
    }

    public async IAsyncEnumerable<AuditRecord> ReadAsync(string tenant, long first, long last, [EnumeratorCancellation] CancellationToken cancellation = default)
    {
        await EnsureTableAsync(cancellation);
        last = Math.Min(last, long.MaxValue - 1);
        var filter = TableClient.CreateQueryFilter($"PartitionKey eq {tenant} and RowKey ge {PageKey(Math.Max(0, first - RecordsPerPage + 1))} and RowKey le {PageKey(last)}");
        await foreach (var entity in _log.QueryAsync<TableEntity>(filter, maxPerPage: 1000, cancellationToken: cancellation))
        {
            foreach (var record in FromEntity(entity).Where(r => r.Sequence >= first && r.Sequence <= last))
            {
                yield return record;
            }
        }
    }

    /// <summary>
    /// The records a stored page holds, as stored: sequence numbers follow from the page key, so a page whose key or
    /// contents were changed yields records that do not verify, and verification names the first.
    /// </summary>
    public static IEnumerable<AuditRecord> FromEntity(TableEntity page)
    {
        if (!long.TryParse(page.RowKey.AsSpan(1), NumberStyles.None, CultureInfo.InvariantCulture, out var first))
        {
            yield break;
        }

        var count = Math.Clamp(page.GetInt32("Count") ?? 0, 0, RecordsPerPage);
        for (var i = 0; i < count; i++)
        {
            yield return new AuditRecord(first + i,
                page.GetString($"Id{i}") ?? string.Empty,
                page.GetString($"Event{i}") ?? string.Empty,
                page.GetString($"Prev{i}") ?? string.Empty,
                page.GetString($"Hash{i}") ?? string.Empty);
        }
    }

    public static TableEntity ToEntity(string tenant, IReadOnlyList<AuditRecord> page)
    {
        var entity = new TableEntity(tenant, PageKey(page[0].Sequence)) { ["Count"] = page.Count };
        for (var i = 0; i < page.Count; i++)
        {
            entity[$"Id{i}"] = page[i].EventId;
            entity[$"Event{i}"] = page[i].EventJson;
            entity[$"Prev{i}"] = page[i].PreviousHash;
            entity[$"Hash{i}"] = page[i].Hash;
        }

        return entity;
    }

    private static IEnumerable<List<AuditRecord>> Pages(IReadOnlyList<AuditRecord> records)
    {
        var page = new List<AuditRecord>(RecordsPerPage);
        var characters = 0;
        foreach (var record in records)
        {
            if (page.Count == RecordsPerPage || (page.Count > 0 && characters + record.EventJson.Length > PageCharacters))
            {
                yield return page;
                page = new List<AuditRecord>(RecordsPerPage);
                characters = 0;
            }

            page.Add(record);
            characters += record.EventJson.Length;
        }

        if (page.Count > 0)
        {
            yield return page;
        }
    }

    public async Task AppendCheckpointAsync(string tenant, long size, string document, CancellationToken cancellation = default)
    {
        await EnsureTableAsync(cancellation);
        await _log.UpsertEntityAsync(Checkpoint(tenant, size, document), TableUpdateMode.Replace, cancellation);
    }

    public async Task<IReadOnlyList<string>> ReadCheckpointsAsync(string tenant, CancellationToken cancellation = default)
    {
        await EnsureTableAsync(cancellation);
        var documents = new List<string>();
        var filter = TableClient.CreateQueryFilter($"PartitionKey eq {tenant} and RowKey ge {"c"} and RowKey lt {"d"}");
        await foreach (var entity in _log.QueryAsync<TableEntity>(filter, cancellationToken: cancellation))
        {
            documents.Add(entity.GetString("Document") ?? string.Empty);
        }

        return documents;
    }

    private static TableEntity Checkpoint(string tenant, long size, string document) => new(tenant, CheckpointKey(size)) { ["Document"] = document };

    private async Task EnsureTableAsync(CancellationToken cancellation)
    {
        if (!_created)
        {
            await _log.CreateIfNotExistsAsync(cancellation);
            _created = true;
        }
    }
}

using AgentSecurity.Audit.Chain;

namespace AgentSecurity.Grains.Audit;

/// <summary>
/// Durable storage of tenants' audit logs: the chain's records in sequence order, a head (last sequence and hash)
/// written in the same transaction as the records it covers, and signed checkpoints. Only a tenant's audit grain
/// writes its log; anything else that writes is what <c>audit verify</c> exists to find.
/// </summary>
public interface IAuditLogStore
{
    /// <summary>The head as written with the last batch, or null for an empty log.</summary>
    Task<AuditHead?> ReadHeadAsync(string tenant, CancellationToken cancellation = default);

    /// <summary>The most records one <see cref="AppendAsync"/> takes: one storage transaction's worth.</summary>
    int MaxRecordsPerAppend { get; }

    /// <summary>
    /// Appends consecutive records after the head, the new head and, when one is due, the signed checkpoint of the log
    /// as of that head, in one storage transaction. A record that exists already fails the whole append (another
    /// writer): nothing of a failed append is stored.
    /// </summary>
    Task AppendAsync(string tenant, IReadOnlyList<AuditRecord> records, AuditHead head, string? checkpoint = null, CancellationToken cancellation = default);

    /// <summary>Records with sequence numbers in [<paramref name="first"/>, <paramref name="last"/>], in storage order.</summary>
    IAsyncEnumerable<AuditRecord> ReadAsync(string tenant, long first, long last, CancellationToken cancellation = default);

    Task AppendCheckpointAsync(string tenant, long size, string document, CancellationToken cancellation = default);

    /// <summary>Checkpoint documents, by size.</summary>
    Task<IReadOnlyList<string>> ReadCheckpointsAsync(string tenant, CancellationToken cancellation = default);
}

/// <summary>
/// The end of a log: its last sequence number and hash, and the Merkle frontier (roots of the perfect subtrees, hex)
/// from which the tree's root continues without reading the log again.
/// </summary>
public sealed record AuditHead(long Sequence, string Hash, IReadOnlyList<string> Frontier);

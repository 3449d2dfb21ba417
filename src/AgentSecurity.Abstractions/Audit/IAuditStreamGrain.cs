using AgentSecurity.Abstractions.Boundary;
using AgentSecurity.Grants.Access;
using Orleans.Concurrency;

namespace AgentSecurity.Abstractions.Audit;

/// <summary>
/// A tenant's audit log (key: the tenant id): consumes the tenant's security-event stream, appends every event once
/// to a SHA-256 hash chain in storage, signs checkpoints, proves inclusion and consistency, and runs the tenant's
/// detection rules.
/// </summary>
public interface IAuditStreamGrain : IGrainWithStringKey
{
    /// <summary>Records in sequence order from <paramref name="fromSequence"/>, at most <paramref name="count"/>, read from storage.</summary>
    [Requires(AccessRights.Audit, CallScope.Tenant)]
    Task<IReadOnlyList<AuditRecordInfo>> ReadAsync(long fromSequence, int count);

    /// <summary>Re-reads the whole log and its checkpoints from storage and checks the chain, the checkpoints and their signatures.</summary>
    [Requires(AccessRights.Audit, CallScope.Tenant)]
    Task<AuditVerification> VerifyAsync();

    /// <summary>Writes a signed checkpoint of the log as it is now (also done every N records or T seconds).</summary>
    [Requires(AccessRights.Audit, CallScope.Tenant)]
    Task<AuditCheckpointInfo?> CheckpointAsync();

    /// <summary>An RFC 6962 inclusion proof of a record in the tree of the first <paramref name="treeSize"/> records.</summary>
    [Requires(AccessRights.Audit, CallScope.Tenant)]
    Task<AuditProof> ProveInclusionAsync(long sequence, long treeSize);

    /// <summary>An RFC 6962 consistency proof between two tree sizes.</summary>
    [Requires(AccessRights.Audit, CallScope.Tenant)]
    Task<AuditProof> ProveConsistencyAsync(long oldSize, long newSize);

    /// <summary>
    /// Sends every event appended after <paramref name="afterSequence"/> to <paramref name="observer"/> (those already in
    /// the log first, up to <see cref="MaxReplay"/>, then each as it is appended; -1: only new ones), until
    /// <see cref="UnsubscribeAsync"/> or until the subscription lapses: renew it within a few minutes by subscribing again
    /// with the last sequence received, which also fills any gap (a silo that died, say). Returns the log's last sequence.
    /// </summary>
    [Requires(AccessRights.Audit, CallScope.Tenant)]
    Task<long> SubscribeAsync(ISecurityEventObserver observer, long afterSequence);

    [Requires(AccessRights.Audit, CallScope.Tenant)]
    Task UnsubscribeAsync(ISecurityEventObserver observer);

    /// <summary>The most events a subscription replays from the log; a subscriber further behind reads the log itself.</summary>
    public const int MaxReplay = 100_000;

    [Requires(AccessRights.Audit, CallScope.Tenant)]
    [AlwaysInterleave, ReadOnly]
    Task<AuditHeadInfo> GetHeadAsync();

    /// <summary>The result of the last <see cref="VerifyAsync"/> since this grain activated (null: none yet), for the security console.</summary>
    [Requires(AccessRights.Audit, CallScope.Tenant)]
    [AlwaysInterleave, ReadOnly]
    Task<LastAuditVerification?> GetLastVerificationAsync();
}

[GenerateSerializer, Immutable, Alias("agentsec.AuditAppendResult.v1")]
public sealed record AuditAppendResult
{
    [Id(0)] public int Appended { get; init; }

    [Id(1)] public int Duplicates { get; init; }

    [Id(2)] public long LastSequence { get; init; }

    /// <summary>
    /// How long the log took over this delivery, from its arrival at the grain until it was stored and its detection
    /// rules ran: what a delivery of the stream, which arrives inside the silo, waits for.
    /// </summary>
    [Id(3)] public double ElapsedMilliseconds { get; init; }
}

[GenerateSerializer, Immutable, Alias("agentsec.AuditRecordInfo.v1")]
public sealed record AuditRecordInfo
{
    [Id(0)] public long Sequence { get; init; }

    /// <summary>The event in its stable JSON form, exactly as hashed.</summary>
    [Id(1)] public required string EventJson { get; init; }

    [Id(2)] public required string Hash { get; init; }

    [Id(3)] public required string PreviousHash { get; init; }
}

[GenerateSerializer, Immutable, Alias("agentsec.AuditVerification.v1")]
public sealed record AuditVerification
{
    [Id(0)] public bool Valid { get; init; }

    [Id(1)] public long Records { get; init; }

    /// <summary>The first sequence number that is missing, altered, out of order or not covered by an intact checkpoint.</summary>
    [Id(2)] public long? FirstBadSequence { get; init; }

    [Id(3)] public int Checkpoints { get; init; }

    [Id(4)] public string? Problem { get; init; }
}

[GenerateSerializer, Immutable, Alias("agentsec.AuditCheckpointInfo.v1")]
public sealed record AuditCheckpointInfo
{
    [Id(0)] public long Size { get; init; }

    [Id(1)] public required string RootHash { get; init; }

    /// <summary>The signed checkpoint document (<c>agentsec.checkpoint.v1</c>).</summary>
    [Id(2)] public required string Document { get; init; }
}

[GenerateSerializer, Immutable, Alias("agentsec.AuditProof.v1")]
public sealed record AuditProof
{
    [Id(0)] public bool Available { get; init; }

    /// <summary>Proof nodes, hex.</summary>
    [Id(1)] public IReadOnlyList<string> Nodes { get; init; } = [];

    /// <summary>The leaf hash (inclusion) and the roots involved, hex.</summary>
    [Id(2)] public string? LeafHash { get; init; }

    [Id(3)] public string? Root { get; init; }

    [Id(4)] public string? OldRoot { get; init; }

    [Id(5)] public string? Problem { get; init; }
}

[GenerateSerializer, Immutable, Alias("agentsec.AuditHeadInfo.v1")]
public sealed record AuditHeadInfo
{
    [Id(0)] public long LastSequence { get; init; }

    [Id(1)] public string? LastHash { get; init; }

    [Id(2)] public long LastCheckpointSize { get; init; }

    /// <summary>The DID of the key that signs this cluster's checkpoints.</summary>
    [Id(3)] public string? AuditDid { get; init; }
}

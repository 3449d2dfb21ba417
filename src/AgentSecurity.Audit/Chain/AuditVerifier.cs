using AgentSecurity.Abstractions.Audit;
using AgentSecurity.Audit.Merkle;
using AgentSecurity.Grants.Documents;
using AgentSecurity.Grants.Identity;

namespace AgentSecurity.Audit.Chain;

/// <summary>
/// Checks a log as storage holds it: consecutive sequence numbers from 1, every link of the hash chain, every event
/// readable and carrying the id it is stored under, the head, and every checkpoint (its signature, its signer being a
/// trusted audit key, and its Merkle root and chain hash matching the records). Reports the first bad sequence
/// number: exact for a changed, missing, inserted or reordered record; for a log rewritten consistently after a point,
/// the first record after the last checkpoint that still matches; for truncation behind a checkpoint, the first
/// missing record.
/// </summary>
public static class AuditVerifier
{
    public static AuditVerification Verify(
        string tenantId,
        IEnumerable<AuditRecord> records,
        (long Sequence, string Hash)? head,
        IReadOnlyList<string> checkpointDocuments,
        IReadOnlySet<DidKey> trustedSigners)
    {
        var problems = new List<string>();
        var checkpoints = ReadCheckpoints(tenantId, checkpointDocuments, trustedSigners, problems);
        var pending = new Queue<CheckpointDocument>(checkpoints.OrderBy(c => c.Size));

        long? firstBad = null;
        var expected = 1L;
        var previous = AuditChain.Genesis;
        var tree = new MerkleAccumulator();
        var lastIntactCheckpoint = 0L;
        var count = 0L;
        foreach (var record in records)
        {
            count++;
            if (firstBad is null && Broken(record, expected, previous) is { } why)
            {
                firstBad = expected;
                problems.Add($"record {expected}: {why}");
            }

            previous = record.Hash;
            expected = record.Sequence + 1;
            tree.Append(AuditChain.LeafHash(record.Sequence, record.EventJson));
            while (pending.Count > 0 && pending.Peek().Size <= tree.Size)
            {
                var checkpoint = pending.Dequeue();
                var matches = checkpoint.Size == tree.Size && record.Sequence == checkpoint.Size &&
                    Convert.ToHexStringLower(tree.Root()) == checkpoint.RootHash && record.Hash == checkpoint.ChainHash;
                if (matches && firstBad is null)
                {
                    lastIntactCheckpoint = checkpoint.Size;
                }
                else if (!matches)
                {
                    // The records up to this checkpoint are not what was signed. If every link held, the chain was
                    // recomputed to hide a change: it lies after the last checkpoint that still matches.
                    firstBad ??= lastIntactCheckpoint + 1;
                    problems.Add($"checkpoint at {checkpoint.Size} does not match the records");
                }
            }
        }

        var last = expected - 1;
        if (pending.Count > 0)
        {
            firstBad = Math.Min(firstBad ?? long.MaxValue, last + 1);
            problems.Add($"the log ends at {last}, behind a checkpoint at {pending.Max(c => c.Size)}");
        }

        if (head is { } h && (h.Sequence != last || (last > 0 && h.Hash != previous)))
        {
            firstBad = Math.Min(firstBad ?? long.MaxValue, Math.Min(h.Sequence, last) + 1);
            problems.Add($"the head says {h.Sequence}, the records end at {last}");
        }

        return new AuditVerification
        {
            Valid = firstBad is null && problems.Count == 0,
            Records = count,
            FirstBadSequence = firstBad,
            Checkpoints = checkpoints.Count,
            Problem = problems.Count == 0 ? null : string.Join("; ", problems.Take(5)),
        };
    }

    private static string? Broken(AuditRecord record, long expected, string previous)
    {
        if (record.Sequence != expected)
        {
            return $"found sequence {record.Sequence} where {expected} belongs (missing, inserted or moved)";
        }

        if (record.PreviousHash != previous)
        {
            return "its previous hash is not the hash of the record before (moved or replaced)";
        }

        if (AuditChain.Hash(record.Sequence, record.PreviousHash, record.EventJson) != record.Hash)
        {
            return "its hash does not match its content (changed)";
        }

        try
        {
            return SecurityEventJson.Read(record.EventJson).Id == record.EventId ? null : "its event id differs from the id it is stored under";
        }
        catch (FormatException)
        {
            return "its event is not readable";
        }
    }

    private static List<CheckpointDocument> ReadCheckpoints(string tenantId, IReadOnlyList<string> documents, IReadOnlySet<DidKey> trusted, List<string> problems)
    {
        var checkpoints = new List<CheckpointDocument>();
        foreach (var text in documents)
        {
            var parsed = CheckpointDocument.Parse(text);
            if (!parsed.Succeeded)
            {
                problems.Add($"a checkpoint is malformed ({parsed.Failure.Code})");
            }
            else if (parsed.Value.TenantId != tenantId || !parsed.Value.Envelope.HasValidSignature() || !trusted.Contains(parsed.Value.Envelope.SignedBy))
            {
                problems.Add($"the checkpoint at {parsed.Value.Size} is not signed by a trusted audit key for this tenant");
            }
            else
            {
                checkpoints.Add(parsed.Value);
            }
        }

        return checkpoints;
    }
}

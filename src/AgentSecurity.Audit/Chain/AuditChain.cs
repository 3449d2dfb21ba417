using System.Buffers;
using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using AgentSecurity.Audit.Merkle;

namespace AgentSecurity.Audit.Chain;

/// <summary>
/// The audit log's hash chain. Record <c>n</c> (from 1) hashes its sequence number, the previous record's hash and
/// the event's JSON: <c>SHA-256("agentsec.audit.v1" || 0x00 || n as 8 bytes big-endian || previous hash || UTF-8(event))</c>,
/// the first previous hash being 32 zero bytes. A change, deletion, insertion or reordering breaks every later link.
/// </summary>
public static class AuditChain
{
    public const string Domain = "agentsec.audit.v1";

    /// <summary>The previous hash of record 1.</summary>
    public static readonly string Genesis = new('0', 64);

    private static readonly byte[] DomainBytes = Encoding.UTF8.GetBytes(Domain);

    // Domain, its 0x00 separator, the sequence number and the previous hash come before the event's bytes.
    private static readonly int HashPrefix = DomainBytes.Length + 1 + 8 + 32;

    public static string Hash(long sequence, string previousHash, string eventJson) => Link(sequence, previousHash, eventJson).Hash;

    /// <summary>
    /// A record's chain hash (hex) and its Merkle leaf hash, from one UTF-8 encoding of the event: the log computes both
    /// for every event it appends.
    /// </summary>
    public static (string Hash, byte[] LeafHash) Link(long sequence, string previousHash, string eventJson)
    {
        var length = Encoding.UTF8.GetByteCount(eventJson);
        var buffer = ArrayPool<byte>.Shared.Rent(HashPrefix + length);
        try
        {
            // [domain 0x00 | n | previous | event]: the chain hash covers all of it; the leaf hash covers
            // [0x00 | n | event], laid out in place over the same event bytes (RFC 6962's leaf prefix is 0x00).
            var span = buffer.AsSpan(0, HashPrefix + length);
            DomainBytes.CopyTo(span);
            span[DomainBytes.Length] = 0;
            BinaryPrimitives.WriteInt64BigEndian(span[(DomainBytes.Length + 1)..], sequence);
            if (Convert.FromHexString(previousHash, span.Slice(DomainBytes.Length + 9, 32), out _, out var written) != OperationStatus.Done || written != 32)
            {
                throw new FormatException("a previous hash is 64 hex digits");
            }

            Encoding.UTF8.GetBytes(eventJson, span[HashPrefix..]);
            var hash = Convert.ToHexStringLower(SHA256.HashData(span));

            var leaf = span[(HashPrefix - 9)..];
            leaf[0] = 0;
            BinaryPrimitives.WriteInt64BigEndian(leaf[1..], sequence);
            return (hash, SHA256.HashData(leaf));
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>The bytes of a record's Merkle leaf: its sequence number (8 bytes big-endian) and its event's UTF-8 JSON.</summary>
    public static byte[] LeafData(long sequence, string eventJson)
    {
        var data = Encoding.UTF8.GetBytes(eventJson);
        var leaf = new byte[8 + data.Length];
        BinaryPrimitives.WriteInt64BigEndian(leaf, sequence);
        data.CopyTo(leaf, 8);
        return leaf;
    }

    /// <summary>A record's Merkle leaf hash: <see cref="MerkleHash.Leaf"/> of <see cref="LeafData"/>.</summary>
    public static byte[] LeafHash(long sequence, string eventJson) => MerkleHash.Leaf(LeafData(sequence, eventJson));

    public static bool IsHash(string? value) =>
        value is { Length: 64 } && value.All(c => char.IsAsciiDigit(c) || c is >= 'a' and <= 'f');
}

using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;

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

    public static string Hash(long sequence, string previousHash, string eventJson)
    {
        var domain = Encoding.UTF8.GetBytes(Domain);
        var previous = Convert.FromHexString(previousHash);
        var data = Encoding.UTF8.GetBytes(eventJson);
        var input = new byte[domain.Length + 1 + 8 + previous.Length + data.Length];
        domain.CopyTo(input, 0);
        BinaryPrimitives.WriteInt64BigEndian(input.AsSpan(domain.Length + 1), sequence);
        previous.CopyTo(input, domain.Length + 9);
        data.CopyTo(input, domain.Length + 9 + previous.Length);
        return Convert.ToHexStringLower(SHA256.HashData(input));
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

    public static bool IsHash(string? value) =>
        value is { Length: 64 } && value.All(c => char.IsAsciiDigit(c) || c is >= 'a' and <= 'f');
}

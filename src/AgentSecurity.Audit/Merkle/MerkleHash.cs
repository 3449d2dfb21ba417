using System.Security.Cryptography;

namespace AgentSecurity.Audit.Merkle;

/// <summary>
/// The two hashes of an RFC 6962 (§2.1) Merkle tree over SHA-256. Leaves and interior nodes are hashed with
/// different one-byte prefixes, so no interior node can be passed off as a leaf (or a leaf as a subtree) to forge
/// an inclusion proof: the second-preimage attack on unprefixed Merkle trees.
/// </summary>
public static class MerkleHash
{
    /// <summary>The length of every hash in the tree: SHA-256's 32 bytes.</summary>
    public const int Size = SHA256.HashSizeInBytes;

    private const byte LeafPrefix = 0x00;
    private const byte NodePrefix = 0x01;

    // Interior nodes of our own trees have two 32-byte children: hash them without allocating.
    private const int StackLimit = 256;

    private static readonly byte[] Empty = SHA256.HashData(ReadOnlySpan<byte>.Empty);

    /// <summary>
    /// The root of the empty tree, SHA-256 of no bytes (RFC 6962 MTH({})). A fresh copy each time: a shared
    /// array handed out could be overwritten by one caller and change every later empty root.
    /// </summary>
    public static byte[] EmptyRoot => (byte[])Empty.Clone();

    /// <summary>The hash of a leaf: SHA-256(0x00 || data).</summary>
    public static byte[] Leaf(ReadOnlySpan<byte> data)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        hash.AppendData([LeafPrefix]);
        hash.AppendData(data);
        return hash.GetHashAndReset();
    }

    /// <summary>The hash of an interior node from its children's hashes: SHA-256(0x01 || left || right).</summary>
    public static byte[] Node(ReadOnlySpan<byte> left, ReadOnlySpan<byte> right)
    {
        var length = 1 + left.Length + right.Length;
        var buffer = length <= StackLimit ? stackalloc byte[length] : new byte[length];
        buffer[0] = NodePrefix;
        left.CopyTo(buffer[1..]);
        right.CopyTo(buffer[(1 + left.Length)..]);
        return SHA256.HashData(buffer);
    }
}

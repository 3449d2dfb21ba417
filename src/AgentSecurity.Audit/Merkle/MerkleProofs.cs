using System.Numerics;

namespace AgentSecurity.Audit.Merkle;

/// <summary>
/// RFC 6962 §2.1 Merkle audit paths (inclusion proofs) and consistency proofs over SHA-256.
/// <para>
/// Producing a proof needs the leaf hashes (the log reads them from storage) and treats bad arguments as
/// programming errors. Verifying a proof is what untrusted input reaches: it answers false, never throws, for
/// anything that is not a valid proof, and follows transparency-dev/merkle's <c>proof</c> package, whose
/// published test vectors it passes. One deliberate difference: every hash, roots included, must be 32 bytes,
/// even where that package only compares two roots with each other.
/// </para>
/// </summary>
public static class MerkleProofs
{
    /// <summary>MTH(D[0:size]): the root of the first <paramref name="size"/> leaves.</summary>
    public static byte[] Root(IReadOnlyList<byte[]> leafHashes, long size)
    {
        CheckLeaves(leafHashes, size);
        return size == 0 ? MerkleHash.EmptyRoot : Detached(leafHashes, 0, size);
    }

    /// <summary>
    /// PATH(index, D[0:size]) (RFC 6962 §2.1.1): the sibling hashes from the leaf up to the root, lowest first.
    /// Requires 0 ≤ index &lt; size ≤ the number of leaves.
    /// </summary>
    public static IReadOnlyList<byte[]> Inclusion(IReadOnlyList<byte[]> leafHashes, long index, long size)
    {
        CheckLeaves(leafHashes, size);
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, size);

        var proof = new List<byte[]>();
        Path(leafHashes, index, 0, size, proof);
        return proof;
    }

    /// <summary>
    /// PROOF(oldSize, D[0:newSize]) (RFC 6962 §2.1.2): what a holder of the old root needs to see that the new
    /// tree only appended to it. Empty when the sizes are equal. Requires 0 &lt; oldSize ≤ newSize ≤ the number of
    /// leaves: every tree extends the empty one, so a proof from size 0 says nothing and verification refuses it.
    /// </summary>
    public static IReadOnlyList<byte[]> Consistency(IReadOnlyList<byte[]> leafHashes, long oldSize, long newSize)
    {
        CheckLeaves(leafHashes, newSize);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(oldSize);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(oldSize, newSize);

        var proof = new List<byte[]>();
        SubProof(leafHashes, oldSize, 0, newSize, complete: true, proof);
        return proof;
    }

    /// <summary>
    /// Whether <paramref name="proof"/> shows the leaf with hash <paramref name="leafHash"/> at
    /// <paramref name="index"/> in the tree of <paramref name="size"/> leaves whose root is <paramref name="root"/>.
    /// The proof must have exactly the length the index and size call for: no extra or missing nodes.
    /// </summary>
    /// <remarks>
    /// The root binds the tree; the size only decides the shape of the path. Sizes whose paths to the index have
    /// the same shape (index 0 in trees of 3 and of 4 leaves) accept the same proof, so a root must always be
    /// trusted together with its size, as a signed checkpoint carries them.
    /// </remarks>
    public static bool VerifyInclusion(long index, long size, ReadOnlySpan<byte> leafHash, IReadOnlyList<byte[]> proof, ReadOnlySpan<byte> root)
    {
        if (index < 0 || index >= size || leafHash.Length != MerkleHash.Size || root.Length != MerkleHash.Size
            || !WellFormed(proof))
        {
            return false;
        }

        var (inner, border) = Decompose((ulong)index, (ulong)size);
        if (proof.Count != inner + border)
        {
            return false;
        }

        var hash = ChainInner(leafHash.ToArray(), proof, 0, inner, (ulong)index);
        hash = ChainBorderRight(hash, proof, inner, border);
        return hash.AsSpan().SequenceEqual(root);
    }

    /// <summary>
    /// Whether <paramref name="proof"/> shows that the tree of <paramref name="newSize"/> leaves with root
    /// <paramref name="newRoot"/> extends the tree of <paramref name="oldSize"/> leaves with root
    /// <paramref name="oldRoot"/>. Equal sizes need an empty proof and equal roots. Size 0 is always refused, even
    /// to size 0: the empty tree is consistent with everything, so such a "proof" proves nothing and accepting it
    /// would only invite callers to skip the check (transparency-dev/merkle and its vectors agree).
    /// </summary>
    public static bool VerifyConsistency(long oldSize, long newSize, ReadOnlySpan<byte> oldRoot, ReadOnlySpan<byte> newRoot, IReadOnlyList<byte[]> proof)
    {
        if (oldSize <= 0 || newSize < oldSize || oldRoot.Length != MerkleHash.Size || newRoot.Length != MerkleHash.Size
            || !WellFormed(proof))
        {
            return false;
        }

        if (oldSize == newSize)
        {
            return proof.Count == 0 && oldRoot.SequenceEqual(newRoot);
        }

        if (proof.Count == 0)
        {
            return false;
        }

        // The proof is, in effect, the upper part of the inclusion proof of leaf oldSize-1 in the new tree,
        // starting at the level of the largest perfect subtree that ends the old tree (2^shift leaves).
        var size1 = (ulong)oldSize;
        var (inner, border) = Decompose(size1 - 1, (ulong)newSize);
        var shift = BitOperations.TrailingZeroCount(size1);
        inner -= shift; // shift < inner whenever oldSize < newSize.

        // That subtree's root comes first in the proof, unless it is the whole old tree, whose root we hold.
        byte[] seed;
        int start;
        if (size1 == 1UL << shift)
        {
            seed = oldRoot.ToArray();
            start = 0;
        }
        else
        {
            seed = proof[0];
            start = 1;
        }

        if (proof.Count != start + inner + border)
        {
            return false;
        }

        var mask = (size1 - 1) >> shift;

        // The old root from the left siblings only: the old tree is what lies left of the path.
        var hash1 = ChainInnerRight(seed, proof, start, inner, mask);
        hash1 = ChainBorderRight(hash1, proof, start + inner, border);
        if (!hash1.AsSpan().SequenceEqual(oldRoot))
        {
            return false;
        }

        // The new root from every node.
        var hash2 = ChainInner(seed, proof, start, inner, mask);
        hash2 = ChainBorderRight(hash2, proof, start + inner, border);
        return hash2.AsSpan().SequenceEqual(newRoot);
    }

    // Splits the path of leaf `index` in a tree of `size` leaves where it meets the path of the last leaf: below,
    // `inner` nodes on either side; above, `border` nodes, all left siblings along the tree's right edge.
    private static (int Inner, int Border) Decompose(ulong index, ulong size)
    {
        var inner = BitLength(index ^ (size - 1));
        var border = BitOperations.PopCount(index >> inner);
        return (inner, border);
    }

    private static int BitLength(ulong value) => 64 - BitOperations.LeadingZeroCount(value);

    // Chains proof[from..from+count) upward; bit i of `index` says whether level i's node is a right child.
    private static byte[] ChainInner(byte[] seed, IReadOnlyList<byte[]> proof, int from, int count, ulong index)
    {
        for (var i = 0; i < count; i++)
        {
            seed = ((index >> i) & 1) == 0 ? MerkleHash.Node(seed, proof[from + i]) : MerkleHash.Node(proof[from + i], seed);
        }

        return seed;
    }

    // Like ChainInner, but uses only the siblings on the left: the hash of this subtree as it was before anything
    // to the right of the path was appended.
    private static byte[] ChainInnerRight(byte[] seed, IReadOnlyList<byte[]> proof, int from, int count, ulong index)
    {
        for (var i = 0; i < count; i++)
        {
            if (((index >> i) & 1) == 1)
            {
                seed = MerkleHash.Node(proof[from + i], seed);
            }
        }

        return seed;
    }

    private static byte[] ChainBorderRight(byte[] seed, IReadOnlyList<byte[]> proof, int from, int count)
    {
        for (var i = 0; i < count; i++)
        {
            seed = MerkleHash.Node(proof[from + i], seed);
        }

        return seed;
    }

    private static bool WellFormed(IReadOnlyList<byte[]>? proof)
    {
        if (proof is null || proof.Count > 64)
        {
            return false; // No tree of at most 2^63 leaves has a longer proof; refuse before hashing anything.
        }

        for (var i = 0; i < proof.Count; i++)
        {
            if (proof[i] is not { Length: MerkleHash.Size })
            {
                return false;
            }
        }

        return true;
    }

    private static void CheckLeaves(IReadOnlyList<byte[]> leafHashes, long size)
    {
        ArgumentNullException.ThrowIfNull(leafHashes);
        ArgumentOutOfRangeException.ThrowIfNegative(size);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(size, leafHashes.Count);
    }

    // MTH(D[start:end]) for end > start; for a single leaf, the caller's own array (see Detached).
    private static byte[] SubtreeRoot(IReadOnlyList<byte[]> leaves, long start, long end)
    {
        if (end - start == 1)
        {
            var leaf = leaves[(int)start];
            if (leaf is not { Length: MerkleHash.Size })
            {
                throw new ArgumentException($"leaf hash {start} is not {MerkleHash.Size} bytes", nameof(leaves));
            }

            return leaf;
        }

        var k = LargestPowerOfTwoBelow(end - start);
        return MerkleHash.Node(SubtreeRoot(leaves, start, start + k), SubtreeRoot(leaves, start + k, end));
    }

    // PATH(m, D[start:end]), m relative to the whole list: RFC 6962 §2.1.1, appending siblings bottom-up.
    private static void Path(IReadOnlyList<byte[]> leaves, long m, long start, long end, List<byte[]> proof)
    {
        if (end - start == 1)
        {
            return;
        }

        var k = LargestPowerOfTwoBelow(end - start);
        if (m < start + k)
        {
            Path(leaves, m, start, start + k, proof);
            proof.Add(Detached(leaves, start + k, end));
        }
        else
        {
            Path(leaves, m, start + k, end, proof);
            proof.Add(Detached(leaves, start, start + k));
        }
    }

    // SUBPROOF(m, D[start:end], complete): RFC 6962 §2.1.2, m counted from `start`. `complete` says D[start:start+m]
    // is the whole old tree, whose root the verifier already has.
    private static void SubProof(IReadOnlyList<byte[]> leaves, long m, long start, long end, bool complete, List<byte[]> proof)
    {
        var n = end - start;
        if (m == n)
        {
            if (!complete)
            {
                proof.Add(Detached(leaves, start, end));
            }

            return;
        }

        var k = LargestPowerOfTwoBelow(n);
        if (m <= k)
        {
            SubProof(leaves, m, start, start + k, complete, proof);
            proof.Add(Detached(leaves, start + k, end));
        }
        else
        {
            SubProof(leaves, m - k, start + k, end, complete: false, proof);
            proof.Add(Detached(leaves, start, start + k));
        }
    }

    // The k of RFC 6962: the largest power of two smaller than n, for n > 1.
    private static long LargestPowerOfTwoBelow(long n) => 1L << (BitLength((ulong)(n - 1)) - 1);

    // MTH(D[start:end]) as an array of its own: a single leaf's hash is the caller's array, and a proof or root
    // that shared it would change when the caller reuses its buffer.
    private static byte[] Detached(IReadOnlyList<byte[]> leaves, long start, long end)
    {
        var hash = SubtreeRoot(leaves, start, end);
        return end - start == 1 ? (byte[])hash.Clone() : hash;
    }
}

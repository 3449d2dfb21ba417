namespace AgentSecurity.Audit.Merkle;

/// <summary>
/// The root of an append-only log without keeping the log: the roots of the perfect subtrees that make up the
/// tree so far (its "compact range" or frontier), one per set bit of <see cref="Size"/>, left to right from the
/// largest. Appending merges equal-sized neighbours like a binary carry, so memory stays O(log n) and an append
/// costs amortized O(1) hashes; the root folds the frontier right to left, which is exactly RFC 6962's split at
/// the largest power of two below the size.
/// </summary>
public sealed class MerkleAccumulator
{
    // frontier[0] is the leftmost (largest) subtree; sizes of the subtrees are the set bits of Size, descending.
    private readonly List<byte[]> _frontier;

    public MerkleAccumulator()
    {
        _frontier = [];
    }

    private MerkleAccumulator(List<byte[]> frontier, long size)
    {
        _frontier = frontier;
        Size = size;
    }

    /// <summary>How many leaves have been appended.</summary>
    public long Size { get; private set; }

    /// <summary>
    /// Appends one leaf by its hash (<see cref="MerkleHash.Leaf"/> of the entry). A hash that is not 32 bytes is
    /// a programming error and throws: it would make every later root silently unverifiable.
    /// </summary>
    public void Append(ReadOnlySpan<byte> leafHash)
    {
        if (leafHash.Length != MerkleHash.Size)
        {
            throw new ArgumentException($"a leaf hash is {MerkleHash.Size} bytes, not {leafHash.Length}", nameof(leafHash));
        }

        if (Size == long.MaxValue)
        {
            throw new InvalidOperationException("the tree is full");
        }

        var hash = leafHash.ToArray();

        // Each trailing one bit of the old size is a subtree of the new leaf's size that now has a right sibling.
        for (var size = Size; (size & 1) == 1; size >>= 1)
        {
            hash = MerkleHash.Node(_frontier[^1], hash);
            _frontier.RemoveAt(_frontier.Count - 1);
        }

        _frontier.Add(hash);
        Size++;
    }

    /// <summary>The root of all leaves appended so far; <see cref="MerkleHash.EmptyRoot"/> before the first.</summary>
    public byte[] Root()
    {
        if (_frontier.Count == 0)
        {
            return MerkleHash.EmptyRoot;
        }

        var root = _frontier[^1];
        for (var i = _frontier.Count - 2; i >= 0; i--)
        {
            root = MerkleHash.Node(_frontier[i], root);
        }

        // With a single subtree the loop hashes nothing; hand out a copy, never the frontier's own array.
        return _frontier.Count == 1 ? (byte[])root.Clone() : root;
    }

    /// <summary>The roots of the perfect subtrees, largest first: what a log stores to continue its tree later.</summary>
    public IReadOnlyList<byte[]> Frontier => _frontier.Select(h => (byte[])h.Clone()).ToArray();

    /// <summary>
    /// Continues a tree from its size and <see cref="Frontier"/>; null when the frontier cannot be that of a tree of
    /// that size (one 32-byte root per set bit of the size).
    /// </summary>
    public static MerkleAccumulator? Restore(long size, IReadOnlyList<byte[]> frontier)
    {
        if (size < 0 || long.PopCount(size) != frontier.Count || frontier.Any(h => h.Length != MerkleHash.Size))
        {
            return null;
        }

        return new MerkleAccumulator(frontier.Select(h => (byte[])h.Clone()).ToList(), size);
    }

    /// <summary>An independent copy: appending to either does not change the other.</summary>
    public MerkleAccumulator Clone() => new([.. _frontier], Size);
}

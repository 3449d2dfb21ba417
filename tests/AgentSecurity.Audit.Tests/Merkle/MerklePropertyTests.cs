using AgentSecurity.Audit.Merkle;
using CsCheck;

namespace AgentSecurity.Audit.Tests.Merkle;

/// <summary>
/// For random trees, positions and sizes: the proofs the log hands out verify, the incremental root agrees with
/// the one computed from all leaves, and one changed node, index or size is enough to make verification fail.
/// (A size changed so little that the path keeps its shape still verifies against the same root: the root, not
/// the size, binds the tree, so sizes are only ever doubled or halved here; MerkleProofsTests shows the cases.)
/// </summary>
public sealed class MerklePropertyTests
{
    private static readonly byte[] Extra = Convert.FromHexString("abacaba000000000000000000000000000000000000000000060061e00123456");

    private static readonly Gen<(int Size, int Index, int OldSize, int Seed)> Cases =
        from size in Gen.Int[1, 600]
        from index in Gen.Int[0, size - 1]
        from oldSize in Gen.Int[1, size]
        from seed in Gen.Int
        select (size, index, oldSize, seed);

    [Fact]
    public void Proofs_RandomTreesIndicesAndSizes_VerifyAndRejectEverySingleChange()
    {
        Cases.Sample(c =>
        {
            var leaves = TestLeaves.Random(c.Size, c.Seed);
            var random = new Random(c.Seed);
            var root = MerkleProofs.Root(leaves, c.Size);
            var oldRoot = MerkleProofs.Root(leaves, c.OldSize);

            var accumulator = new MerkleAccumulator();
            foreach (var leaf in leaves)
            {
                accumulator.Append(leaf);
            }

            Assert.Equal(root, accumulator.Root());

            var inclusion = MerkleProofs.Inclusion(leaves, c.Index, c.Size);
            Assert.True(MerkleProofs.VerifyInclusion(c.Index, c.Size, leaves[c.Index], inclusion, root));
            var inclusionMutations = TestLeaves.Mutations(inclusion, Extra).ToList();
            var (what, mutated) = inclusionMutations[random.Next(inclusionMutations.Count)];
            Assert.False(MerkleProofs.VerifyInclusion(c.Index, c.Size, leaves[c.Index], mutated, root), what);
            var otherIndex = (c.Index + 1 + random.Next(c.Size)) % (c.Size + 1); // any other index, or size itself
            Assert.False(MerkleProofs.VerifyInclusion(otherIndex, c.Size, leaves[c.Index], inclusion, root), $"index {otherIndex}");
            Assert.False(MerkleProofs.VerifyInclusion(c.Index, c.Size * 2L, leaves[c.Index], inclusion, root), "size doubled");
            Assert.False(MerkleProofs.VerifyInclusion(c.Index, c.Size / 2, leaves[c.Index], inclusion, root), "size halved");

            var consistency = MerkleProofs.Consistency(leaves, c.OldSize, c.Size);
            Assert.True(MerkleProofs.VerifyConsistency(c.OldSize, c.Size, oldRoot, root, consistency));
            if (c.OldSize < c.Size)
            {
                var consistencyMutations = TestLeaves.Mutations(consistency, Extra).ToList();
                (what, mutated) = consistencyMutations[random.Next(consistencyMutations.Count)];
                Assert.False(MerkleProofs.VerifyConsistency(c.OldSize, c.Size, oldRoot, root, mutated), what);
                var otherOld = (c.OldSize + 1 + random.Next(c.Size)) % (c.Size + 1); // 0 .. size, never oldSize
                Assert.False(MerkleProofs.VerifyConsistency(otherOld, c.Size, oldRoot, root, consistency), $"old size {otherOld}");
                Assert.False(MerkleProofs.VerifyConsistency(c.OldSize, c.Size * 2L, oldRoot, root, consistency), "new size doubled");
                Assert.False(MerkleProofs.VerifyConsistency(c.OldSize, c.Size / 2, oldRoot, root, consistency), "new size halved");
            }
        }, iter: 1_500);
    }
}

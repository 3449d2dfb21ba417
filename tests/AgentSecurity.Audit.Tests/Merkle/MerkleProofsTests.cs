using AgentSecurity.Audit.Merkle;

namespace AgentSecurity.Audit.Tests.Merkle;

public sealed class MerkleProofsTests
{
    private static readonly byte[] SomeHash = Convert.FromHexString("abacaba000000000000000000000000000000000000000000060061e00123456");

    [Theory]
    [InlineData(0, 8, "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7 5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e 6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4")]
    [InlineData(5, 8, "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0 d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7")]
    [InlineData(2, 3, "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125")]
    [InlineData(1, 5, "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d 5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b")]
    [InlineData(0, 1, "")]
    public void Inclusion_Rfc6962Leaves_MatchesPublishedProof(long index, long size, string expected)
    {
        var proof = MerkleProofs.Inclusion(TestLeaves.Rfc6962, index, size);

        Assert.Equal(expected, string.Join(' ', proof.Select(Convert.ToHexStringLower)));
    }

    [Theory]
    [InlineData(1, 8, "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7 5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e 6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4")]
    [InlineData(6, 8, "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0 d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7")]
    [InlineData(2, 5, "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b")]
    [InlineData(6, 7, "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7")]
    [InlineData(4, 4, "")]
    public void Consistency_Rfc6962Leaves_MatchesPublishedProof(long oldSize, long newSize, string expected)
    {
        var proof = MerkleProofs.Consistency(TestLeaves.Rfc6962, oldSize, newSize);

        Assert.Equal(expected, string.Join(' ', proof.Select(Convert.ToHexStringLower)));
    }

    [Fact]
    public void Inclusion_EveryIndexOfTreesUpTo64Leaves_Verifies()
    {
        var leaves = TestLeaves.Random(64, seed: 1);
        for (var size = 1; size <= leaves.Length; size++)
        {
            var root = MerkleProofs.Root(leaves, size);
            for (var index = 0; index < size; index++)
            {
                var proof = MerkleProofs.Inclusion(leaves, index, size);

                Assert.True(MerkleProofs.VerifyInclusion(index, size, leaves[index], proof, root), $"{index} in {size}");
            }
        }
    }

    [Fact]
    public void Consistency_EverySizePairUpTo64Leaves_Verifies()
    {
        var leaves = TestLeaves.Random(64, seed: 2);
        for (var newSize = 1; newSize <= leaves.Length; newSize++)
        {
            var newRoot = MerkleProofs.Root(leaves, newSize);
            for (var oldSize = 1; oldSize <= newSize; oldSize++)
            {
                var proof = MerkleProofs.Consistency(leaves, oldSize, newSize);

                Assert.True(
                    MerkleProofs.VerifyConsistency(oldSize, newSize, MerkleProofs.Root(leaves, oldSize), newRoot, proof),
                    $"{oldSize} to {newSize}");
            }
        }
    }

    public static TheoryData<int, int> InclusionCases()
    {
        var data = new TheoryData<int, int>();
        var random = new Random(6962);
        var cases = new SortedSet<(int, int)>();
        foreach (var size in new[] { 1, 2, 3, 5, 8, 13, 64, 100, 255, 256, 257, 1000, 4097 }.Concat(Enumerable.Range(0, 12).Select(_ => random.Next(1, 5000))))
        {
            cases.UnionWith([(size, 0), (size, size - 1), (size, random.Next(size))]);
        }

        foreach (var (size, index) in cases)
        {
            data.Add(size, index);
        }

        return data;
    }

    public static TheoryData<int, int> ConsistencyCases()
    {
        var data = new TheoryData<int, int>();
        var random = new Random(6962);
        var cases = new SortedSet<(int, int)>();
        foreach (var size in new[] { 2, 3, 5, 8, 13, 64, 100, 255, 256, 257, 1000, 4097 }.Concat(Enumerable.Range(0, 12).Select(_ => random.Next(2, 5000))))
        {
            cases.UnionWith([(1, size), (size - 1, size), (random.Next(1, size), size)]);
        }

        foreach (var (oldSize, newSize) in cases)
        {
            data.Add(oldSize, newSize);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(InclusionCases))]
    public void VerifyInclusion_AnyNodeFlippedRemovedOrAdded_Fails(int size, int index)
    {
        var leaves = TestLeaves.Random(size, seed: size);
        var root = MerkleProofs.Root(leaves, size);
        var proof = MerkleProofs.Inclusion(leaves, index, size);
        Assert.True(MerkleProofs.VerifyInclusion(index, size, leaves[index], proof, root));

        foreach (var (what, mutated) in TestLeaves.Mutations(proof, SomeHash))
        {
            Assert.False(MerkleProofs.VerifyInclusion(index, size, leaves[index], mutated, root), what);
        }
    }

    [Theory]
    [MemberData(nameof(InclusionCases))]
    public void VerifyInclusion_OtherIndex_Fails(int size, int index)
    {
        var leaves = TestLeaves.Random(size, seed: size);
        var root = MerkleProofs.Root(leaves, size);
        var proof = MerkleProofs.Inclusion(leaves, index, size);
        var others = Enumerable.Range(0, Math.Min(size, 300)).Select(i => (long)i)
            .Concat([size - 1, -1, size, long.MaxValue, long.MinValue])
            .Where(other => other != index);

        foreach (var other in others)
        {
            Assert.False(MerkleProofs.VerifyInclusion(other, size, leaves[index], proof, root), $"index {other}");
        }
    }

    [Theory]
    [MemberData(nameof(InclusionCases))]
    public void VerifyInclusion_SizeDoubledHalvedOrOutOfRange_Fails(int size, int index)
    {
        var leaves = TestLeaves.Random(size, seed: size);
        var root = MerkleProofs.Root(leaves, size);
        var proof = MerkleProofs.Inclusion(leaves, index, size);

        foreach (var other in new long[] { size * 2L, size / 2, index, 0, -1, long.MinValue })
        {
            Assert.False(MerkleProofs.VerifyInclusion(index, other, leaves[index], proof, root), $"size {other}");
        }
    }

    [Fact]
    public void VerifyInclusion_OtherSizeWithThatSizesRoot_Fails()
    {
        var leaves = TestLeaves.Random(32, seed: 3);
        for (var size = 1; size <= leaves.Length; size++)
        {
            for (var index = 0; index < size; index++)
            {
                var proof = MerkleProofs.Inclusion(leaves, index, size);
                for (var other = index + 1; other <= leaves.Length; other++)
                {
                    if (other != size)
                    {
                        Assert.False(
                            MerkleProofs.VerifyInclusion(index, other, leaves[index], proof, MerkleProofs.Root(leaves, other)),
                            $"{index} in {size} as {other}");
                    }
                }
            }
        }
    }

    [Fact]
    public void VerifyInclusion_SizeWithSamePathShape_StillVerifies()
    {
        // The root binds the tree, the size only the shape of the path: leaf 0's path has two left-child steps in
        // trees of 3 and of 4 leaves alike. Why a root is trusted only together with its size (a checkpoint).
        var leaves = TestLeaves.Random(3, seed: 4);
        var proof = MerkleProofs.Inclusion(leaves, 0, 3);

        Assert.True(MerkleProofs.VerifyInclusion(0, 4, leaves[0], proof, MerkleProofs.Root(leaves, 3)));
    }

    [Fact]
    public void VerifyInclusion_WrongLeafOrRoot_Fails()
    {
        var leaves = TestLeaves.Random(10, seed: 5);
        var root = MerkleProofs.Root(leaves, 10);
        var proof = MerkleProofs.Inclusion(leaves, 3, 10);

        Assert.False(MerkleProofs.VerifyInclusion(3, 10, leaves[4], proof, root));
        Assert.False(MerkleProofs.VerifyInclusion(3, 10, leaves[3], proof, MerkleProofs.Root(leaves, 9)));
        Assert.False(MerkleProofs.VerifyInclusion(3, 10, leaves[3], proof, MerkleHash.EmptyRoot));
        Assert.False(MerkleProofs.VerifyInclusion(3, 10, leaves[3], proof, root.AsSpan(0, 31)));
        Assert.False(MerkleProofs.VerifyInclusion(3, 10, leaves[3], proof, [.. root, 0]));
        Assert.False(MerkleProofs.VerifyInclusion(3, 10, leaves[3].AsSpan(0, 31), proof, root));
        Assert.False(MerkleProofs.VerifyInclusion(3, 10, [], proof, root));
    }

    [Fact]
    public void VerifyInclusion_SingleLeafTree_NeedsEmptyProofAndLeafAsRoot()
    {
        var leaf = TestLeaves.Random(1, seed: 6)[0];

        Assert.True(MerkleProofs.VerifyInclusion(0, 1, leaf, [], leaf));
        Assert.False(MerkleProofs.VerifyInclusion(0, 1, leaf, [leaf], leaf));
        Assert.False(MerkleProofs.VerifyInclusion(0, 1, leaf, [], MerkleHash.EmptyRoot));
        Assert.False(MerkleProofs.VerifyInclusion(0, 0, leaf, [], leaf));
    }

    [Fact]
    public void Verify_NullProofOrNullNode_ReturnsFalse()
    {
        var leaves = TestLeaves.Random(4, seed: 7);
        var root = MerkleProofs.Root(leaves, 4);
        var inclusion = MerkleProofs.Inclusion(leaves, 1, 4).ToArray();
        var consistency = MerkleProofs.Consistency(leaves, 3, 4).ToArray();
        var oldRoot = MerkleProofs.Root(leaves, 3);
        inclusion[1] = null!;
        consistency[0] = null!;

        Assert.False(MerkleProofs.VerifyInclusion(1, 4, leaves[1], null!, root));
        Assert.False(MerkleProofs.VerifyInclusion(1, 4, leaves[1], inclusion, root));
        Assert.False(MerkleProofs.VerifyConsistency(3, 4, oldRoot, root, null!));
        Assert.False(MerkleProofs.VerifyConsistency(3, 4, oldRoot, root, consistency));
    }

    [Fact]
    public void Verify_ProofLongerThanAnyTreeNeeds_ReturnsFalse()
    {
        var leaf = TestLeaves.Random(1, seed: 8)[0];
        var proof = Enumerable.Repeat(leaf, 65).ToArray();

        Assert.False(MerkleProofs.VerifyInclusion(0, long.MaxValue, leaf, proof, leaf));
        Assert.False(MerkleProofs.VerifyConsistency(1, long.MaxValue, leaf, leaf, proof));
    }

    [Fact]
    public void Verify_HugeSizes_AnswerWithoutThrowing()
    {
        var leaf = TestLeaves.Random(1, seed: 9)[0];
        var proof = Enumerable.Repeat(leaf, 63).ToArray();

        Assert.False(MerkleProofs.VerifyInclusion(long.MaxValue - 1, long.MaxValue, leaf, proof, leaf));
        Assert.False(MerkleProofs.VerifyConsistency(long.MaxValue - 1, long.MaxValue, leaf, leaf, proof));
        Assert.False(MerkleProofs.VerifyConsistency(1L << 62, long.MaxValue, leaf, leaf, proof));
    }

    [Theory]
    [MemberData(nameof(ConsistencyCases))]
    public void VerifyConsistency_AnyNodeFlippedRemovedOrAdded_Fails(int oldSize, int newSize)
    {
        var leaves = TestLeaves.Random(newSize, seed: newSize);
        var oldRoot = MerkleProofs.Root(leaves, oldSize);
        var newRoot = MerkleProofs.Root(leaves, newSize);
        var proof = MerkleProofs.Consistency(leaves, oldSize, newSize);
        Assert.True(MerkleProofs.VerifyConsistency(oldSize, newSize, oldRoot, newRoot, proof));

        foreach (var (what, mutated) in TestLeaves.Mutations(proof, SomeHash))
        {
            Assert.False(MerkleProofs.VerifyConsistency(oldSize, newSize, oldRoot, newRoot, mutated), what);
        }
    }

    [Theory]
    [MemberData(nameof(ConsistencyCases))]
    public void VerifyConsistency_OtherSizesOrRoots_Fails(int oldSize, int newSize)
    {
        var leaves = TestLeaves.Random(newSize, seed: newSize);
        var oldRoot = MerkleProofs.Root(leaves, oldSize);
        var newRoot = MerkleProofs.Root(leaves, newSize);
        var proof = MerkleProofs.Consistency(leaves, oldSize, newSize);
        var otherOld = Enumerable.Range(0, Math.Min(newSize + 2, 300)).Select(i => (long)i)
            .Concat([oldSize + 1L, oldSize ^ 2L, newSize, newSize + 1L, -1, long.MaxValue])
            .Where(other => other != oldSize);
        // Not newSize ± 1 and the like: the new size only shapes the path (see the test below); the roots bind.
        var otherNew = new long[] { newSize * 2L, newSize / 2, oldSize - 1L, 0, -1, long.MaxValue }
            .Where(other => other != newSize);

        foreach (var other in otherOld)
        {
            Assert.False(MerkleProofs.VerifyConsistency(other, newSize, oldRoot, newRoot, proof), $"old size {other}");
        }

        foreach (var other in otherNew)
        {
            Assert.False(MerkleProofs.VerifyConsistency(oldSize, other, oldRoot, newRoot, proof), $"new size {other}");
        }

        Assert.False(MerkleProofs.VerifyConsistency(oldSize, newSize, newRoot, oldRoot, proof), "swapped roots");
        Assert.False(MerkleProofs.VerifyConsistency(oldSize, newSize, SomeHash, newRoot, proof), "wrong old root");
        Assert.False(MerkleProofs.VerifyConsistency(oldSize, newSize, oldRoot, SomeHash, proof), "wrong new root");
        Assert.False(MerkleProofs.VerifyConsistency(oldSize, newSize, oldRoot.AsSpan(0, 31), newRoot, proof), "short old root");
        Assert.False(MerkleProofs.VerifyConsistency(oldSize, newSize, oldRoot, [.. newRoot, 0], proof), "long new root");
        Assert.False(MerkleProofs.VerifyConsistency(oldSize, newSize, oldRoot, newRoot, []), "empty proof");
    }

    [Fact]
    public void VerifyConsistency_OtherNewSizeWithThatSizesRoot_Fails()
    {
        var leaves = TestLeaves.Random(32, seed: 15);
        for (var newSize = 2; newSize <= leaves.Length; newSize++)
        {
            for (var oldSize = 1; oldSize < newSize; oldSize++)
            {
                var proof = MerkleProofs.Consistency(leaves, oldSize, newSize);
                var oldRoot = MerkleProofs.Root(leaves, oldSize);
                for (var other = oldSize; other <= leaves.Length; other++)
                {
                    if (other != newSize)
                    {
                        Assert.False(
                            MerkleProofs.VerifyConsistency(oldSize, other, oldRoot, MerkleProofs.Root(leaves, other), proof),
                            $"{oldSize} to {newSize} as {other}");
                    }
                }
            }
        }
    }

    [Fact]
    public void VerifyConsistency_NewSizeWithSamePathShape_StillVerifies()
    {
        // As for inclusion: the proof from 1 to 3 leaves has the shape of the one from 1 to 4, and the new root,
        // not the new size, is what it is checked against. Roots are trusted only together with their sizes.
        var leaves = TestLeaves.Random(3, seed: 16);
        var proof = MerkleProofs.Consistency(leaves, 1, 3);

        Assert.True(MerkleProofs.VerifyConsistency(1, 4, leaves[0], MerkleProofs.Root(leaves, 3), proof));
    }

    [Fact]
    public void VerifyConsistency_EqualSizes_NeedsEmptyProofAndEqualRoots()
    {
        var leaves = TestLeaves.Random(5, seed: 10);
        var root = MerkleProofs.Root(leaves, 5);

        Assert.Empty(MerkleProofs.Consistency(leaves, 5, 5));
        Assert.True(MerkleProofs.VerifyConsistency(5, 5, root, root, []));
        Assert.False(MerkleProofs.VerifyConsistency(5, 5, root, SomeHash, []));
        Assert.False(MerkleProofs.VerifyConsistency(5, 5, root, root, [root]));
    }

    [Fact]
    public void VerifyConsistency_EqualSizesWithRootsNot32Bytes_Fails()
    {
        // Stricter than transparency-dev/merkle, which compares the two roots only with each other.
        var placeholder = "don't care 2"u8.ToArray();

        Assert.False(MerkleProofs.VerifyConsistency(1, 1, placeholder, placeholder, []));
    }

    [Fact]
    public void VerifyConsistency_FromEmptyTree_AlwaysFails()
    {
        var leaves = TestLeaves.Random(3, seed: 11);
        var empty = MerkleHash.EmptyRoot;

        Assert.False(MerkleProofs.VerifyConsistency(0, 0, empty, empty, []));
        Assert.False(MerkleProofs.VerifyConsistency(0, 3, empty, MerkleProofs.Root(leaves, 3), []));
        Assert.False(MerkleProofs.VerifyConsistency(0, 1, empty, leaves[0], [leaves[0]]));
    }

    [Fact]
    public void VerifyConsistency_NewSizeSmallerThanOld_Fails()
    {
        var leaves = TestLeaves.Random(8, seed: 12);
        var proof = MerkleProofs.Consistency(leaves, 3, 8);

        Assert.False(MerkleProofs.VerifyConsistency(8, 3, MerkleProofs.Root(leaves, 8), MerkleProofs.Root(leaves, 3), proof));
        Assert.False(MerkleProofs.VerifyConsistency(2, 1, MerkleProofs.Root(leaves, 2), leaves[0], []));
    }

    [Fact]
    public void Root_NoLeaves_IsEmptyRoot()
    {
        Assert.Equal(MerkleHash.EmptyRoot, MerkleProofs.Root([], 0));
        Assert.Equal(MerkleHash.EmptyRoot, MerkleProofs.Root(TestLeaves.Rfc6962, 0));
    }

    [Fact]
    public void RootAndProofs_CallerOverwritesResults_LeavesUnchanged()
    {
        var leaves = TestLeaves.Random(2, seed: 13);
        var copy = leaves.Select(l => (byte[])l.Clone()).ToArray();

        Array.Clear(MerkleProofs.Root(leaves, 1));
        Array.Clear(MerkleProofs.Inclusion(leaves, 0, 2)[0]);
        Array.Clear(MerkleProofs.Consistency(leaves, 1, 2)[0]);

        Assert.Equal(copy, leaves);
    }

    [Fact]
    public void Generation_ArgumentsOutOfRange_Throw()
    {
        var leaves = TestLeaves.Random(4, seed: 14);

        Assert.Throws<ArgumentOutOfRangeException>(() => MerkleProofs.Root(leaves, 5));
        Assert.Throws<ArgumentOutOfRangeException>(() => MerkleProofs.Root(leaves, -1));
        Assert.Throws<ArgumentOutOfRangeException>(() => MerkleProofs.Inclusion(leaves, 4, 4));
        Assert.Throws<ArgumentOutOfRangeException>(() => MerkleProofs.Inclusion(leaves, -1, 4));
        Assert.Throws<ArgumentOutOfRangeException>(() => MerkleProofs.Inclusion(leaves, 0, 5));
        Assert.Throws<ArgumentOutOfRangeException>(() => MerkleProofs.Consistency(leaves, 0, 4));
        Assert.Throws<ArgumentOutOfRangeException>(() => MerkleProofs.Consistency(leaves, 3, 2));
        Assert.Throws<ArgumentOutOfRangeException>(() => MerkleProofs.Consistency(leaves, 1, 5));
        Assert.Throws<ArgumentNullException>(() => MerkleProofs.Root(null!, 0));
    }

    [Fact]
    public void Generation_LeafHashNot32Bytes_Throws()
    {
        byte[][] leaves = [new byte[32], new byte[31], new byte[32]];

        Assert.Throws<ArgumentException>(() => MerkleProofs.Root(leaves, 3));
        Assert.Throws<ArgumentException>(() => MerkleProofs.Inclusion(leaves, 0, 3));
    }
}

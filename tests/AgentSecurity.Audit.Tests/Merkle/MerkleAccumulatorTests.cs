using AgentSecurity.Audit.Merkle;

namespace AgentSecurity.Audit.Tests.Merkle;

public sealed class MerkleAccumulatorTests
{
    [Fact]
    public void Root_Sizes0To300_EqualsMerkleProofsRoot()
    {
        var leaves = TestLeaves.Random(300, seed: 6962);
        var accumulator = new MerkleAccumulator();

        for (var size = 0; size <= leaves.Length; size++)
        {
            Assert.Equal(size, accumulator.Size);
            Assert.Equal(MerkleProofs.Root(leaves, size), accumulator.Root());
            if (size < leaves.Length)
            {
                accumulator.Append(leaves[size]);
            }
        }
    }

    [Fact]
    public void Root_Rfc6962Leaves_MatchesPublishedRoots()
    {
        string[] roots =
        [
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
            "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
            "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
            "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
            "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
            "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
        ];
        var accumulator = new MerkleAccumulator();

        for (var i = 0; i < roots.Length; i++)
        {
            accumulator.Append(TestLeaves.Rfc6962[i]);
            Assert.Equal(roots[i], Convert.ToHexStringLower(accumulator.Root()));
        }
    }

    [Fact]
    public void Root_NoLeaves_IsEmptyRoot()
    {
        Assert.Equal(MerkleHash.EmptyRoot, new MerkleAccumulator().Root());
    }

    [Fact]
    public void Clone_ThenAppendToEither_OtherUnchanged()
    {
        var leaves = TestLeaves.Random(12, seed: 1);
        var original = new MerkleAccumulator();
        foreach (var leaf in leaves[..7])
        {
            original.Append(leaf);
        }

        var copy = original.Clone();
        copy.Append(leaves[7]);
        original.Append(leaves[8]);
        original.Append(leaves[9]);

        Assert.Equal(8, copy.Size);
        Assert.Equal(9, original.Size);
        Assert.Equal(MerkleProofs.Root(leaves[..8], 8), copy.Root());
        Assert.Equal(MerkleProofs.Root([.. leaves[..7], leaves[8], leaves[9]], 9), original.Root());
    }

    [Fact]
    public void Append_CallerReusesItsBuffer_RootUnchanged()
    {
        var leaf = TestLeaves.Random(1, seed: 2)[0];
        var expected = (byte[])leaf.Clone();
        var accumulator = new MerkleAccumulator();

        accumulator.Append(leaf);
        Array.Clear(leaf);
        var root = accumulator.Root();
        Array.Clear(root);

        Assert.Equal(expected, accumulator.Root());
    }

    [Theory]
    [InlineData(0)]
    [InlineData(31)]
    [InlineData(33)]
    public void Append_HashNot32Bytes_Throws(int length)
    {
        var accumulator = new MerkleAccumulator();

        Assert.Throws<ArgumentException>(() => accumulator.Append(new byte[length]));
        Assert.Equal(0, accumulator.Size);
    }
}

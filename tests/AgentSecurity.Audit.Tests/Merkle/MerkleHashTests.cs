using System.Security.Cryptography;
using AgentSecurity.Audit.Merkle;

namespace AgentSecurity.Audit.Tests.Merkle;

public sealed class MerkleHashTests
{
    [Fact]
    public void EmptyRoot_Always_IsSha256OfNothing()
    {
        Assert.Equal("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", Convert.ToHexStringLower(MerkleHash.EmptyRoot));
    }

    [Fact]
    public void EmptyRoot_CallerOverwritesIt_LaterCallsUnchanged()
    {
        var first = MerkleHash.EmptyRoot;
        Array.Clear(first);

        Assert.NotEqual(first, MerkleHash.EmptyRoot);
    }

    [Fact]
    public void Leaf_EmptyData_MatchesRfc6962ReferenceHash()
    {
        Assert.Equal("6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d", Convert.ToHexStringLower(MerkleHash.Leaf([])));
    }

    [Fact]
    public void Leaf_AnyData_IsSha256WithZeroPrefix()
    {
        byte[] data = [1, 2, 3];

        Assert.Equal(SHA256.HashData([0x00, 1, 2, 3]), MerkleHash.Leaf(data));
    }

    [Fact]
    public void Node_TwoChildren_IsSha256WithOnePrefix()
    {
        var left = MerkleHash.Leaf([1]);
        var right = MerkleHash.Leaf([2]);

        Assert.Equal(SHA256.HashData([0x01, .. left, .. right]), MerkleHash.Node(left, right));
    }

    [Fact]
    public void Node_ChildrenLongerThanAHash_IsSha256WithOnePrefix()
    {
        var left = new byte[300];
        var right = new byte[5];
        left[299] = 7;

        Assert.Equal(SHA256.HashData([0x01, .. left, .. right]), MerkleHash.Node(left, right));
    }

    [Fact]
    public void Leaf_SameBytesAsANode_HashesDifferently()
    {
        var left = MerkleHash.Leaf([1]);
        var right = MerkleHash.Leaf([2]);

        Assert.NotEqual(MerkleHash.Node(left, right), MerkleHash.Leaf([.. left, .. right]));
    }
}

using AgentSecurity.Audit.Merkle;

namespace AgentSecurity.Audit.Tests.Merkle;

/// <summary>Leaf hashes for the tests: random but reproducible from a seed, and RFC 6962's eight test leaves.</summary>
internal static class TestLeaves
{
    /// <summary>The leaves of the RFC 6962 reference tests (certificate-transparency, transparency-dev/merkle).</summary>
    public static readonly byte[][] Rfc6962 =
    [
        .. new[] { "", "00", "10", "2021", "3031", "40414243", "5051525354555657", "606162636465666768696a6b6c6d6e6f" }
            .Select(hex => MerkleHash.Leaf(Convert.FromHexString(hex))),
    ];

    public static byte[][] Random(int count, int seed)
    {
        var random = new Random(seed);
        var leaves = new byte[count][];
        for (var i = 0; i < count; i++)
        {
            leaves[i] = new byte[MerkleHash.Size];
            random.NextBytes(leaves[i]);
        }

        return leaves;
    }

    /// <summary>Every proof that differs from <paramref name="proof"/> by one node removed, one added, or one byte flipped.</summary>
    public static IEnumerable<(string What, List<byte[]> Proof)> Mutations(IReadOnlyList<byte[]> proof, byte[] extra)
    {
        for (var i = 0; i < proof.Count; i++)
        {
            var removed = proof.ToList();
            removed.RemoveAt(i);
            yield return ($"node {i} removed", removed);

            for (var b = 0; b < proof[i].Length; b++)
            {
                var flipped = proof.ToList();
                flipped[i] = (byte[])proof[i].Clone();
                flipped[i][b] ^= 0x01;
                yield return ($"node {i} byte {b} flipped", flipped);
            }
        }

        for (var i = 0; i <= proof.Count; i++)
        {
            var added = proof.ToList();
            added.Insert(i, extra);
            yield return ($"node added at {i}", added);

            if (i < proof.Count)
            {
                var duplicated = proof.ToList();
                duplicated.Insert(i, proof[i]);
                yield return ($"node {i} duplicated", duplicated);
            }
        }
    }
}

using AgentSecurity.Audit.Merkle;
using AgentSecurity.Testing;

namespace AgentSecurity.Audit.Tests.Vectors;

/// <summary>
/// transparency-dev/merkle's consistency probes (98 files, 6 valid): happy paths between trees of 1 to 8 leaves
/// with their mutations, and the edge cases of equal sizes and size 0 (always refused, even 0 to 0).
/// </summary>
public sealed class MerkleConsistencyVectorTests
{
    /// <summary>
    /// Where this verifier is deliberately stricter than transparency-dev/merkle, with why. Go compares the two
    /// roots of equal sizes with each other and never checks their length; here every root must be 32 bytes.
    /// </summary>
    private static readonly Dictionary<string, string> Stricter = new(StringComparer.Ordinal)
    {
        ["consistency/additional/sizes-are-equal-one-and-proof-is-empty.json"] =
            "both roots are the 12-byte placeholder \"don't care 2\", which is no SHA-256 root",
    };

    public static TheoryData<string> CaseIds => ConformanceVectors.Cases(() => MerkleVectors.Files("consistency"));

    [SkippableTheory]
    [MemberData(nameof(CaseIds))]
    public void VerifyConsistency_TransparencyDevProbe_AgreesWithExpectedVerdict(string caseId)
    {
        ConformanceVectors.SkipIfMissing(caseId);
        using var json = MerkleVectors.Load(caseId);
        var probe = json.RootElement;

        var verified = MerkleProofs.VerifyConsistency(
            MerkleVectors.Number(probe, "size1"),
            MerkleVectors.Number(probe, "size2"),
            MerkleVectors.Bytes(probe, "root1"),
            MerkleVectors.Bytes(probe, "root2"),
            MerkleVectors.Proof(probe));

        Assert.Equal(MerkleVectors.Valid(probe) && !Stricter.ContainsKey(caseId), verified);
    }

    [SkippableFact]
    public void Suite_HasAllProbes_98()
    {
        Skip.IfNot(RepositoryPaths.VectorsAvailable, RepositoryPaths.VectorsMissingReason);
        var valid = MerkleVectors.Files("consistency").Count(id =>
        {
            using var json = MerkleVectors.Load(id);
            return MerkleVectors.Valid(json.RootElement);
        });

        Assert.Equal(98, MerkleVectors.Files("consistency").Count());
        Assert.Equal(6, valid);
    }

    [SkippableFact]
    public void Stricter_EveryListedProbe_IsValidInTheVectorsWithShortRoots()
    {
        // The list must only ever name probes the vectors call valid and that fail here for the stated reason.
        Skip.IfNot(RepositoryPaths.VectorsAvailable, RepositoryPaths.VectorsMissingReason);
        foreach (var caseId in Stricter.Keys)
        {
            using var json = MerkleVectors.Load(caseId);
            var probe = json.RootElement;

            Assert.True(MerkleVectors.Valid(probe), caseId);
            Assert.NotEqual(32, MerkleVectors.Bytes(probe, "root1").Length);
            Assert.NotEqual(32, MerkleVectors.Bytes(probe, "root2").Length);
        }
    }
}

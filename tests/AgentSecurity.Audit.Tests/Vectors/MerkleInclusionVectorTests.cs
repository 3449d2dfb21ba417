using AgentSecurity.Audit.Merkle;
using AgentSecurity.Testing;

namespace AgentSecurity.Audit.Tests.Vectors;

/// <summary>
/// transparency-dev/merkle's inclusion probes (98 files, 6 valid): the happy paths of proofs in trees of 1 to 8
/// leaves, each with wrong indices and sizes, wrong leaves and roots, and nodes flipped, added or removed.
/// </summary>
public sealed class MerkleInclusionVectorTests
{
    public static TheoryData<string> CaseIds => ConformanceVectors.Cases(() => MerkleVectors.Files("inclusion"));

    [SkippableTheory]
    [MemberData(nameof(CaseIds))]
    public void VerifyInclusion_TransparencyDevProbe_AgreesWithExpectedVerdict(string caseId)
    {
        ConformanceVectors.SkipIfMissing(caseId);
        using var json = MerkleVectors.Load(caseId);
        var probe = json.RootElement;

        var verified = MerkleProofs.VerifyInclusion(
            MerkleVectors.Number(probe, "leafIdx"),
            MerkleVectors.Number(probe, "treeSize"),
            MerkleVectors.Bytes(probe, "leafHash"),
            MerkleVectors.Proof(probe),
            MerkleVectors.Bytes(probe, "root"));

        Assert.Equal(MerkleVectors.Valid(probe), verified);
    }

    [SkippableFact]
    public void Suite_HasAllProbes_98()
    {
        Skip.IfNot(RepositoryPaths.VectorsAvailable, RepositoryPaths.VectorsMissingReason);
        var valid = MerkleVectors.Files("inclusion").Count(id =>
        {
            using var json = MerkleVectors.Load(id);
            return MerkleVectors.Valid(json.RootElement);
        });

        Assert.Equal(98, MerkleVectors.Files("inclusion").Count());
        Assert.Equal(6, valid);
    }
}

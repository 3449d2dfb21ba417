using System.Text.Json;
using AgentSecurity.Grants.Crypto;
using AgentSecurity.Testing;

namespace AgentSecurity.Grants.Tests.Vectors;

/// <summary>Wycheproof's Ed25519 suite: the verifier must agree with every case (88 valid, 63 invalid).</summary>
public sealed class WycheproofEd25519Tests
{
    public static TheoryData<string> CaseIds => ConformanceVectors.Cases(() => AllCases().Keys);

    [SkippableTheory]
    [MemberData(nameof(CaseIds))]
    public void Verify_WycheproofCase_AgreesWithExpectedResult(string caseId)
    {
        ConformanceVectors.SkipIfMissing(caseId);
        var c = AllCases()[caseId];

        var verified = Ed25519.Verify(c.PublicKey, c.Message, c.Signature);

        Assert.Equal(c.Valid, verified);
    }

    [SkippableFact]
    public void Suite_HasAllCases_151()
    {
        Skip.IfNot(RepositoryPaths.VectorsAvailable, RepositoryPaths.VectorsMissingReason);
        Assert.Equal(151, AllCases().Count);
        Assert.Equal(88, AllCases().Values.Count(c => c.Valid));
    }

    private static Dictionary<string, Case> AllCases()
    {
        using var json = ConformanceVectors.Json("ed25519", "wycheproof_ed25519_test.json");
        var cases = new Dictionary<string, Case>();
        foreach (var group in json.RootElement.GetProperty("testGroups").EnumerateArray())
        {
            var pk = Convert.FromHexString(group.GetProperty("publicKey").GetProperty("pk").GetString()!);
            foreach (var test in group.GetProperty("tests").EnumerateArray())
            {
                var id = $"tc{test.GetProperty("tcId").GetInt32():D3} {test.GetProperty("comment").GetString()}".Trim();
                cases[id] = new Case(
                    pk,
                    Convert.FromHexString(test.GetProperty("msg").GetString()!),
                    Convert.FromHexString(test.GetProperty("sig").GetString()!),
                    test.GetProperty("result").GetString() == "valid");
            }
        }

        return cases;
    }

    private sealed record Case(byte[] PublicKey, byte[] Message, byte[] Signature, bool Valid);
}

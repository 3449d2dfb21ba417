using AgentSecurity.Grants.Crypto;
using AgentSecurity.Testing;

namespace AgentSecurity.Grants.Tests.Vectors;

/// <summary>
/// ed25519-speccheck's edge cases carry no expected verdict: the verdicts below are libsodium's (through NSec),
/// recorded so that a change of library or version cannot change them silently. docs/cryptography.md explains
/// each: small-order keys and R are refused, non-canonical R and S ≥ L are refused, the cofactorless equation is
/// used.
/// </summary>
public sealed class SpeccheckEd25519Tests
{
    // Index in cases.json → verdict.
    private static readonly bool[] Recorded = [false, false, false, true, false, false, false, false, false, false];

    public static TheoryData<string> CaseIds => ConformanceVectors.Cases(() => Enumerable.Range(0, 10).Select(i => $"case {i}"));

    [SkippableTheory]
    [MemberData(nameof(CaseIds))]
    public void Verify_SpeccheckCase_MatchesRecordedVerdict(string caseId)
    {
        ConformanceVectors.SkipIfMissing(caseId);
        var index = int.Parse(caseId["case ".Length..], System.Globalization.CultureInfo.InvariantCulture);
        using var json = ConformanceVectors.Json("ed25519", "speccheck_cases.json");
        var c = json.RootElement[index];

        var verified = Ed25519.Verify(
            Convert.FromHexString(c.GetProperty("pub_key").GetString()!),
            Convert.FromHexString(c.GetProperty("message").GetString()!),
            Convert.FromHexString(c.GetProperty("signature").GetString()!));

        Assert.Equal(Recorded[index], verified);
    }
}

using AgentSecurity.Grants.Json;

namespace AgentSecurity.Grants.Tests.Vectors;

/// <summary>RFC 8785's reference test data: input → canonical bytes (outhex).</summary>
public sealed class JcsVectorTests
{
    public static TheoryData<string> Files => VectorData.Cases(() =>
        Directory.GetFiles(Testing.RepositoryPaths.Vector("jcs", "input"), "*.json").Select(Path.GetFileNameWithoutExtension).OfType<string>().Order());

    [SkippableTheory]
    [MemberData(nameof(Files))]
    public void Canonicalize_ReferenceInput_GivesReferenceBytes(string name)
    {
        VectorData.SkipIfMissing(name);
        var input = File.ReadAllBytes(Testing.RepositoryPaths.Vector("jcs", "input", name + ".json"));
        var hex = File.ReadAllText(Testing.RepositoryPaths.Vector("jcs", "outhex", name + ".txt"));
        var expected = Convert.FromHexString(string.Concat(hex.Split((char[])[' ', '\n', '\r'], StringSplitOptions.RemoveEmptyEntries)));

        var parsed = StrictJsonParser.Parse(input);

        Assert.True(parsed.Succeeded, parsed.Failure?.ToString());
        Assert.Equal(expected, JsonCanonicalizer.Canonicalize(parsed.Value));
    }
}

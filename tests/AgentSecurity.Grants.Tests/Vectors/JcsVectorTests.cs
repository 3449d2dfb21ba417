using AgentSecurity.Grants.Json;
using AgentSecurity.Testing;

namespace AgentSecurity.Grants.Tests.Vectors;

/// <summary>RFC 8785's reference test data: input → canonical bytes (outhex).</summary>
public sealed class JcsVectorTests
{
    public static TheoryData<string> Files => ConformanceVectors.Cases(() =>
        Directory.GetFiles(RepositoryPaths.Vector("jcs", "input"), "*.json").Select(Path.GetFileNameWithoutExtension).OfType<string>().Order());

    [SkippableTheory]
    [MemberData(nameof(Files))]
    public void Canonicalize_ReferenceInput_GivesReferenceBytes(string name)
    {
        ConformanceVectors.SkipIfMissing(name);
        var input = File.ReadAllBytes(RepositoryPaths.Vector("jcs", "input", name + ".json"));
        var hex = File.ReadAllText(RepositoryPaths.Vector("jcs", "outhex", name + ".txt"));
        var expected = Convert.FromHexString(string.Concat(hex.Split((char[])[' ', '\n', '\r'], StringSplitOptions.RemoveEmptyEntries)));

        var parsed = StrictJsonParser.Parse(input);

        Assert.True(parsed.Succeeded, parsed.Failure?.ToString());
        Assert.Equal(expected, JsonCanonicalizer.Canonicalize(parsed.Value));
    }
}

using AgentSecurity.Fuzzing.Targets;

namespace AgentSecurity.Fuzzing;

/// <summary>
/// Every input a target keeps (its seeds, and each input a fuzzer once crashed it with, in Inputs/TARGET/crashes) runs
/// through the target in every test run, so a fixed crash stays fixed.
/// </summary>
public sealed class ReplayTests
{
    private static readonly string Inputs = Path.Combine(AppContext.BaseDirectory, "Inputs");

    public static TheoryData<string, string> Kept()
    {
        var data = new TheoryData<string, string>();
        foreach (var target in FuzzTargets.All.Keys)
        {
            foreach (var file in Directory.EnumerateFiles(Path.Combine(Inputs, target), "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
            {
                data.Add(target, Path.GetRelativePath(Inputs, file));
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Kept))]
    public void Target_KeptInput_KeepsItsContract(string target, string input) =>
        FuzzTargets.All[target](File.ReadAllBytes(Path.Combine(Inputs, input)));

    [Fact]
    public void Seeds_OnDisk_AreTheCurrentSeeds()
    {
        foreach (var (target, files) in Seeds.All())
        {
            foreach (var (name, bytes) in files)
            {
                Assert.True(bytes.AsSpan().SequenceEqual(File.ReadAllBytes(Path.Combine(Inputs, target, "seeds", name))),
                    $"Inputs/{target}/seeds/{name} is out of date: dotnet AgentSecurity.Fuzzing.dll --write-seeds tests/AgentSecurity.Fuzzing/Inputs");
            }
        }
    }

    [Fact]
    public void Seeds_Documents_EachParsesAndVerifies() =>
        Assert.All(Seeds.All()["documents"], d =>
        {
            var parsed = Grants.Documents.SignedDocument.Parse(d.Value);
            Assert.True(parsed.Succeeded, $"{d.Key}: {parsed.Failure}");
            Assert.True(parsed.Value.HasValidSignature(), d.Key);
        });
}

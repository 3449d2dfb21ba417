using System.Text.Json;
using AgentSecurity.Testing;

namespace AgentSecurity.Audit.Tests.Vectors;

/// <summary>
/// Theory data over the shared vectors. Every case is its own test row, so the run's count of conformance tests
/// is the count of vector cases. Without the vectors folder a single row stands in and reports itself skipped.
/// </summary>
internal static class VectorData
{
    public const string Missing = "(vectors folder absent)";

    public static TheoryData<string> Cases(Func<IEnumerable<string>> load)
    {
        var data = new TheoryData<string>();
        if (!RepositoryPaths.VectorsAvailable)
        {
            data.Add(Missing);
            return data;
        }

        foreach (var id in load())
        {
            data.Add(id);
        }

        return data;
    }

    public static void SkipIfMissing(string caseId) =>
        Skip.If(caseId == Missing, RepositoryPaths.VectorsMissingReason);

    public static JsonDocument Json(params string[] path) => JsonDocument.Parse(File.ReadAllBytes(RepositoryPaths.Vector(path)));
}

using System.Text.Json;

namespace AgentSecurity.Testing;

/// <summary>
/// Theory data over the shared conformance vectors (<see cref="RepositoryPaths.Vectors"/>). Every case is its own test
/// row, so the run's count of conformance tests is the count of vector cases. Without the vectors folder a single row
/// stands in and reports itself skipped.
/// </summary>
public static class ConformanceVectors
{
    /// <summary>The id of the one row that stands in for every case when the folder is absent.</summary>
    public const string Missing = "(vectors folder absent)";

    public static TheoryData<string> Cases(Func<IEnumerable<string>> load)
    {
        ArgumentNullException.ThrowIfNull(load);
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

    /// <summary>A vector file, by its path under the vectors folder.</summary>
    public static JsonDocument Json(params string[] path) => JsonDocument.Parse(File.ReadAllBytes(RepositoryPaths.Vector(path)));
}

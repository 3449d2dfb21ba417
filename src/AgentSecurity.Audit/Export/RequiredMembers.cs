using System.Text.Json;

namespace AgentSecurity.Audit.Export;

/// <summary>
/// Collects which required members a JSON document lacks, by dotted path. A member counts as present only with a
/// usable value of the expected kind: an empty string or array, or <c>null</c>, is as good as absent to a consumer
/// that indexes or routes on it. Children are checked only when their parent is there, so one missing object is
/// reported once rather than with every member it would have held.
/// </summary>
internal sealed class RequiredMembers(JsonElement root)
{
    private readonly List<string> missing = [];

    public IReadOnlyList<string> Missing => missing;

    public bool Has(string path) => TryGet(root, path, out _);

    /// <summary>Requires a non-empty string; returns whether it was there.</summary>
    public bool String(string path) => Require(path, JsonValueKind.String);

    public bool Number(string path) => Require(path, JsonValueKind.Number);

    public bool Object(string path) => Require(path, JsonValueKind.Object);

    /// <summary>Requires any value but <c>null</c>.</summary>
    public bool Value(string path)
    {
        if (TryGet(root, path, out _))
        {
            return true;
        }

        missing.Add(path);
        return false;
    }

    /// <summary>
    /// An "at least one of" constraint: satisfied by any listed member with a usable value; reported as the
    /// alternatives joined by <c>|</c>, which is what a reader has to add one of.
    /// </summary>
    public void AnyOf(params string[] paths)
    {
        if (!paths.Any(Usable))
        {
            missing.Add(string.Join('|', paths));
        }
    }

    private bool Usable(string path) =>
        TryGet(root, path, out var value) && value.ValueKind switch
        {
            JsonValueKind.String => value.GetString()!.Length > 0,
            JsonValueKind.Array => value.GetArrayLength() > 0,
            _ => true,
        };

    private bool Require(string path, JsonValueKind kind)
    {
        if (TryGet(root, path, out var value) && value.ValueKind == kind && Usable(path))
        {
            return true;
        }

        missing.Add(path);
        return false;
    }

    internal static bool TryGet(JsonElement root, string path, out JsonElement value)
    {
        value = root;
        foreach (var name in path.Split('.'))
        {
            if (value.ValueKind != JsonValueKind.Object || !value.TryGetProperty(name, out value))
            {
                return false;
            }
        }

        return value.ValueKind is not (JsonValueKind.Null or JsonValueKind.Undefined);
    }
}

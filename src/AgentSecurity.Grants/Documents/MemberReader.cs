using AgentSecurity.Grants.Identity;
using AgentSecurity.Grants.Json;

namespace AgentSecurity.Grants.Documents;

/// <summary>
/// Reads the members of one JSON object of a document, refusing unknown members up front and any member of the
/// wrong shape as it is read. The path prefixes member names in messages (<c>capabilities.network</c>).
/// </summary>
internal sealed class MemberReader
{
    /// <summary>The largest integer a document may hold (2^53 − 1), so that every language reads it exactly.</summary>
    public const long MaxInteger = 9007199254740991;

    private readonly JObject _object;
    private readonly string _path;

    public MemberReader(JObject obj, string path, IReadOnlySet<string> allowed)
    {
        _object = obj;
        _path = path;
        foreach (var member in obj.Members)
        {
            if (!allowed.Contains(member.Key))
            {
                throw new DocumentFormatException(ReasonCodes.UnknownMember, $"unknown member \"{Name(member.Key)}\"");
            }
        }
    }

    public bool Has(string name) => _object[name] is not null;

    public string RequireString(string name) => OptionalString(name) ?? throw Missing(name);

    public string? OptionalString(string name) => _object[name] switch
    {
        null => null,
        JString s => s.Value,
        var other => throw Invalid(name, $"must be a string, not a {other.KindName}"),
    };

    public string RequireString(string name, int maxLength)
    {
        var value = RequireString(name);
        return value.Length <= maxLength ? value : throw Invalid(name, $"must be at most {maxLength} characters");
    }

    public string RequireIdentifier(string name, Func<string?, bool> isValid, string rule)
    {
        var value = RequireString(name);
        return isValid(value) ? value : throw Invalid(name, $"must match {rule}");
    }

    public string? OptionalIdentifier(string name, Func<string?, bool> isValid, string rule)
    {
        var value = OptionalString(name);
        return value is null || isValid(value) ? value : throw Invalid(name, $"must match {rule}");
    }

    public DateTimeOffset RequireTime(string name) => OptionalTime(name) ?? throw Missing(name);

    public DateTimeOffset? OptionalTime(string name)
    {
        var text = OptionalString(name);
        if (text is null)
        {
            return null;
        }

        return DocumentTime.TryParse(text, out var time) ? time : throw Invalid(name, "must be a time written YYYY-MM-DDTHH:MM:SSZ");
    }

    public long? OptionalInteger(string name)
    {
        switch (_object[name])
        {
            case null:
                return null;
            case JNumber number:
                var text = number.Text;
                var plain = text.Length is >= 1 and <= 16 && text.All(char.IsAsciiDigit) && (text.Length == 1 || text[0] != '0');
                if (!plain || long.Parse(text, System.Globalization.CultureInfo.InvariantCulture) > MaxInteger)
                {
                    throw Invalid(name, $"must be an integer from 0 to {MaxInteger} written in plain digits");
                }

                return long.Parse(text, System.Globalization.CultureInfo.InvariantCulture);
            case var other:
                throw Invalid(name, $"must be an integer, not a {other.KindName}");
        }
    }

    public bool RequireBool(string name) => _object[name] switch
    {
        null => throw Missing(name),
        JBool b => b.Value,
        var other => throw Invalid(name, $"must be true or false, not a {other.KindName}"),
    };

    public T RequireEnum<T>(string name, IReadOnlyDictionary<string, T> values)
    {
        var text = RequireString(name);
        return values.TryGetValue(text, out var value)
            ? value
            : throw Invalid(name, $"must be one of {string.Join(", ", values.Keys.Select(k => $"\"{k}\""))}");
    }

    public JObject RequireObject(string name) => OptionalObject(name) ?? throw Missing(name);

    public JObject? OptionalObject(string name) => _object[name] switch
    {
        null => null,
        JObject o => o,
        var other => throw Invalid(name, $"must be an object, not a {other.KindName}"),
    };

    /// <summary>A list of strings, at most <paramref name="maxItems"/> long, each at most <paramref name="maxLength"/>.</summary>
    public IReadOnlyList<string>? OptionalStringList(string name, int maxItems, int maxLength)
    {
        switch (_object[name])
        {
            case null:
                return null;
            case JArray array:
                if (array.Items.Count > maxItems)
                {
                    throw Invalid(name, $"must hold at most {maxItems} entries");
                }

                var list = new List<string>(array.Items.Count);
                foreach (var item in array.Items)
                {
                    if (item is not JString s || s.Value.Length is 0 || s.Value.Length > maxLength)
                    {
                        throw Invalid(name, $"must hold only non-empty strings of at most {maxLength} characters");
                    }

                    list.Add(s.Value);
                }

                return list;
            case var other:
                throw Invalid(name, $"must be an array, not a {other.KindName}");
        }
    }

    public DidKey RequireDid(string name) => OptionalDid(name) ?? throw Missing(name);

    public DidKey? OptionalDid(string name)
    {
        var text = OptionalString(name);
        if (text is null)
        {
            return null;
        }

        var did = DidKey.Parse(text);
        return did.Succeeded ? did.Value : throw new DocumentFormatException(ReasonCodes.InvalidDid, $"{Name(name)}: {did.Failure.Message}");
    }

    public string Name(string member) => _path.Length == 0 ? member : $"{_path}.{member}";

    public DocumentFormatException Invalid(string name, string what) =>
        new(ReasonCodes.InvalidField, $"\"{Name(name)}\" {what}");

    private DocumentFormatException Missing(string name) =>
        new(ReasonCodes.InvalidField, $"\"{Name(name)}\" is required");
}

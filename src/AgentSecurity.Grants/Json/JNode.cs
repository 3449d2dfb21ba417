namespace AgentSecurity.Grants.Json;

/// <summary>
/// A parsed JSON value. A small tree of our own rather than <c>System.Text.Json</c>'s, because signed documents
/// need what general parsers relax: duplicate members refused at any depth, lone surrogates refused, numbers
/// kept as written so that only plain integers pass.
/// </summary>
public abstract class JNode
{
    /// <summary>What the document format calls this kind of value, for error messages.</summary>
    public abstract string KindName { get; }
}

/// <summary>An object; members keep their written order, names are unique.</summary>
public sealed class JObject : JNode
{
    public JObject(IReadOnlyList<KeyValuePair<string, JNode>> members)
    {
        Members = members;
    }

    public IReadOnlyList<KeyValuePair<string, JNode>> Members { get; }

    public override string KindName => "object";

    public JNode? this[string name]
    {
        get
        {
            foreach (var member in Members)
            {
                if (string.Equals(member.Key, name, StringComparison.Ordinal))
                {
                    return member.Value;
                }
            }

            return null;
        }
    }

    /// <summary>A copy without the named member (the signature is not part of what is signed).</summary>
    public JObject Without(string name) =>
        new(Members.Where(m => !string.Equals(m.Key, name, StringComparison.Ordinal)).ToList());
}

public sealed class JArray(IReadOnlyList<JNode> items) : JNode
{
    public IReadOnlyList<JNode> Items { get; } = items;

    public override string KindName => "array";
}

public sealed class JString(string value) : JNode
{
    public string Value { get; } = value;

    public override string KindName => "string";
}

/// <summary>A number exactly as written in the source text.</summary>
public sealed class JNumber(string text) : JNode
{
    public string Text { get; } = text;

    public override string KindName => "number";
}

public sealed class JBool : JNode
{
    public static readonly JBool True = new(true);
    public static readonly JBool False = new(false);

    private JBool(bool value)
    {
        Value = value;
    }

    public bool Value { get; }

    public override string KindName => "boolean";

    public static JBool Of(bool value) => value ? True : False;
}

public sealed class JNull : JNode
{
    public static readonly JNull Instance = new();

    private JNull()
    {
    }

    public override string KindName => "null";
}

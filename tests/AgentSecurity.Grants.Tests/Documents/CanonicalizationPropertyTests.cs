using AgentSecurity.Grants.Json;
using CsCheck;

namespace AgentSecurity.Grants.Tests.Documents;

/// <summary>The signed bytes must not depend on how a document happens to be written.</summary>
public sealed class CanonicalizationPropertyTests
{
    private static readonly Gen<string> Name =
        Gen.OneOf<string>("a", "b", "B", "_", "é", "€", "😀", "\"", "\\", "\n", "\u007f").Array[1, 4].Select(string.Concat);

    private static readonly Gen<JNode> Leaf = Gen.OneOf(
        Gen.String[Gen.Char.AlphaNumeric, 0, 8].Select(s => (JNode)new JString(s)),
        Gen.Long[0, 9007199254740991].Select(n => (JNode)new JNumber(n.ToString(System.Globalization.CultureInfo.InvariantCulture))),
        Gen.Bool.Select(b => (JNode)JBool.Of(b)),
        Gen.Const((JNode)JNull.Instance));

    private static readonly Gen<JObject> Objects = Gen.Recursive<JObject>((depth, self) =>
        Gen.Dictionary(Name, depth < 3 ? Gen.OneOf(Leaf, self.Select(o => (JNode)o)) : Leaf)[0, 6]
            .Select(d => new JObject(d.ToList())));

    [Fact]
    public void Canonicalize_MembersReorderedAndWhitespaceAdded_GivesSameBytes()
    {
        Objects.Select(Gen.Int).Sample((obj, seed) =>
        {
            var expected = JsonCanonicalizer.CanonicalizeToString(obj);
            var rewritten = Write(obj, new Random(seed));

            var reparsed = StrictJsonParser.Parse(rewritten);

            Assert.True(reparsed.Succeeded, reparsed.Failure?.ToString());
            Assert.Equal(expected, JsonCanonicalizer.CanonicalizeToString(reparsed.Value));
        }, iter: 10_000);
    }

    // Writes the node with members shuffled, random whitespace and random (valid) escapes.
    private static string Write(JNode node, Random random)
    {
        string Space() => new[] { "", " ", "\n", "\t ", "\r\n" }[random.Next(5)];
        return node switch
        {
            JObject o => "{" + Space() + string.Join("," + Space(), o.Members.OrderBy(_ => random.Next())
                .Select(m => Str(m.Key, random) + Space() + ":" + Space() + Write(m.Value, random))) + Space() + "}",
            JString s => Str(s.Value, random),
            _ => JsonCanonicalizer.CanonicalizeToString(node),
        };
    }

    private static string Str(string value, Random random)
    {
        var builder = new System.Text.StringBuilder("\"");
        for (var i = 0; i < value.Length; i++)
        {
            // A surrogate pair is escaped as a whole or not at all; UTF-8 cannot carry half of one.
            var unit = char.IsHighSurrogate(value[i]) ? value.Substring(i++, 2) : value[i].ToString();
            if (unit is "\"" or "\\" || unit[0] < ' ' || random.Next(4) == 0)
            {
                foreach (var c in unit)
                {
                    builder.Append("\\u").Append(((int)c).ToString("X4", System.Globalization.CultureInfo.InvariantCulture));
                }
            }
            else
            {
                builder.Append(unit);
            }
        }

        return builder.Append('"').ToString();
    }
}

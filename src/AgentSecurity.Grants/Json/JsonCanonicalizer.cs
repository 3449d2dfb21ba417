using System.Globalization;
using System.Text;

namespace AgentSecurity.Grants.Json;

/// <summary>
/// The JSON Canonicalization Scheme (RFC 8785): members sorted by UTF-16 code units, no whitespace, strings
/// escaped as ECMAScript's JSON.stringify does, numbers in ECMAScript's shortest form. Signed documents only
/// ever hold integers, but numbers are implemented in full so that the scheme's own test vectors hold.
/// </summary>
public static class JsonCanonicalizer
{
    public static byte[] Canonicalize(JNode node) => System.Text.Encoding.UTF8.GetBytes(CanonicalizeToString(node));

    public static string CanonicalizeToString(JNode node)
    {
        var builder = new StringBuilder();
        Write(builder, node);
        return builder.ToString();
    }

    private static void Write(StringBuilder builder, JNode node)
    {
        switch (node)
        {
            case JObject obj:
                builder.Append('{');
                var first = true;
                foreach (var member in obj.Members.OrderBy(m => m.Key, StringComparer.Ordinal))
                {
                    if (!first)
                    {
                        builder.Append(',');
                    }

                    first = false;
                    WriteString(builder, member.Key);
                    builder.Append(':');
                    Write(builder, member.Value);
                }

                builder.Append('}');
                break;
            case JArray array:
                builder.Append('[');
                for (var i = 0; i < array.Items.Count; i++)
                {
                    if (i > 0)
                    {
                        builder.Append(',');
                    }

                    Write(builder, array.Items[i]);
                }

                builder.Append(']');
                break;
            case JString s:
                WriteString(builder, s.Value);
                break;
            case JNumber n:
                builder.Append(EcmaScriptNumber.Format(double.Parse(n.Text, NumberStyles.Float, CultureInfo.InvariantCulture)));
                break;
            case JBool b:
                builder.Append(b.Value ? "true" : "false");
                break;
            case JNull:
                builder.Append("null");
                break;
            default:
                throw new ArgumentException($"unexpected node {node.GetType().Name}", nameof(node));
        }
    }

    /// <summary>Writes a JSON string literal: only <c>"</c>, <c>\</c> and control characters are escaped.</summary>
    public static void WriteString(StringBuilder builder, string value)
    {
        builder.Append('"');
        foreach (var c in value)
        {
            switch (c)
            {
                case '"': builder.Append("\\\""); break;
                case '\\': builder.Append("\\\\"); break;
                case '\b': builder.Append("\\b"); break;
                case '\f': builder.Append("\\f"); break;
                case '\n': builder.Append("\\n"); break;
                case '\r': builder.Append("\\r"); break;
                case '\t': builder.Append("\\t"); break;
                case < ' ':
                    builder.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
                    break;
                default: builder.Append(c); break;
            }
        }

        builder.Append('"');
    }
}

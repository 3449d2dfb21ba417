using System.Text;
using System.Text.RegularExpressions;
using AgentSecurity.Grants.Policy;
using CsCheck;

namespace AgentSecurity.Grants.Tests.Policy;

/// <summary>
/// Independent answers to compare <see cref="PathPattern"/> with: a regular expression for matching, the coverage
/// table it used to compute for coverage, and generators of small patterns and resources where the interesting cases
/// (many stars, <c>/</c> inside blocks, empty first blocks) are frequent.
/// </summary>
internal static class PatternOracles
{
    // Segments over a two-letter alphabet with stars: short enough that random resources often match. One in four is
    // long, so that positions run over several 64-bit words.
    private static readonly Gen<string> PatternSegment = Gen.Frequency((3, Gen.Char["ab*"].Array[1, 6]), (1, Gen.Char["ab*"].Array[1, 40])).Select(c => new string(c));
    private static readonly Gen<string> ResourceSegment = Gen.Frequency((3, Gen.Char["ab"].Array[1, 5]), (1, Gen.Char["ab"].Array[1, 60])).Select(c => new string(c));

    /// <summary>A pattern of the kind (<c>/</c>-rooted for paths) that <see cref="PathPattern.TryParse"/> accepts.</summary>
    public static Gen<string> Pattern(ResourceKind kind) =>
        PatternSegment.Array[1, 6].Select(s => Root(kind) + string.Join('/', s));

    public static Gen<string> Resource(ResourceKind kind) =>
        ResourceSegment.Array[1, 8].Select(s => Root(kind) + string.Join('/', s));

    /// <summary>
    /// A resource the pattern matches, or nearly: each <c>*</c> replaced by a few letters, each <c>**</c> by a few
    /// letters and slashes. The result may not be normal (an empty segment); callers skip those.
    /// </summary>
    public static Gen<string> Instance(string pattern) =>
        Gen.Int[0, 12].Array[pattern.Length].SelectMany(lengths => Gen.Char["ab/"].Array[pattern.Length * 12].Select(fill =>
        {
            var text = new StringBuilder();
            var used = 0;
            for (var i = 0; i < pattern.Length; i++)
            {
                if (pattern[i] != '*')
                {
                    text.Append(pattern[i]);
                    continue;
                }

                var doubleStar = i + 1 < pattern.Length && pattern[i + 1] == '*';
                while (i + 1 < pattern.Length && pattern[i + 1] == '*')
                {
                    i++;
                }

                for (var n = 0; n < lengths[i]; n++)
                {
                    var c = fill[used++];
                    text.Append(c == '/' && !doubleStar ? 'a' : c);
                }
            }

            return text.ToString();
        }));

    /// <summary><c>*</c> as <c>[^/]*</c>, <c>**</c> (or more stars) as <c>.*</c>, the rest literally, anchored.</summary>
    public static Regex Regex(string pattern)
    {
        var expression = new StringBuilder("^");
        for (var i = 0; i < pattern.Length; i++)
        {
            if (pattern[i] != '*')
            {
                expression.Append(System.Text.RegularExpressions.Regex.Escape(pattern[i].ToString()));
            }
            else if (i + 1 < pattern.Length && pattern[i + 1] == '*')
            {
                expression.Append(".*");
                while (i + 1 < pattern.Length && pattern[i + 1] == '*')
                {
                    i++;
                }
            }
            else
            {
                expression.Append("[^/]*");
            }
        }

        return new Regex(expression.Append('$').ToString(), RegexOptions.NonBacktracking | RegexOptions.CultureInvariant | RegexOptions.Singleline);
    }

    /// <summary>
    /// The coverage rule as it was decided before: a table over (wider token, narrower token) pairs, where a literal
    /// covers only the same literal, <c>*</c> covers literals but <c>/</c> and <c>*</c>, <c>**</c> covers everything,
    /// and a wildcard may stand for nothing. Slow (it allocates the whole table) and known to be sound.
    /// </summary>
    public static bool CoversByTable(string wider, string narrower)
    {
        var (p, c) = (Tokens(wider), Tokens(narrower));
        var reach = new bool[p.Count + 1, c.Count + 1];
        reach[0, 0] = true;
        for (var i = 0; i <= p.Count; i++)
        {
            for (var j = 0; j <= c.Count; j++)
            {
                if (!reach[i, j] || i == p.Count)
                {
                    continue;
                }

                var wide = p[i];
                if (wide is not ("*" or "**"))
                {
                    if (j < c.Count && c[j] == wide)
                    {
                        reach[i + 1, j + 1] = true;
                    }

                    continue;
                }

                reach[i + 1, j] = true;
                if (j < c.Count && (wide == "**" || c[j] == "*" || c[j] is not ("/" or "**")))
                {
                    reach[i, j + 1] = true;
                }
            }
        }

        return reach[p.Count, c.Count];
    }

    private static List<string> Tokens(string pattern)
    {
        var tokens = new List<string>();
        for (var i = 0; i < pattern.Length; i++)
        {
            if (pattern[i] != '*')
            {
                tokens.Add(pattern[i].ToString());
            }
            else if (i + 1 < pattern.Length && pattern[i + 1] == '*')
            {
                tokens.Add("**");
                while (i + 1 < pattern.Length && pattern[i + 1] == '*')
                {
                    i++;
                }
            }
            else
            {
                tokens.Add("*");
            }
        }

        return tokens;
    }

    private static string Root(ResourceKind kind) => kind == ResourceKind.Path ? "/" : string.Empty;
}

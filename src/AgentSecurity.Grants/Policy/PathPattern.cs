namespace AgentSecurity.Grants.Policy;

/// <summary>
/// A scope pattern over paths (<c>fileSystem</c>) or keys (<c>memory</c>): <c>*</c> matches any characters but
/// <c>/</c>, <c>**</c> any characters; everything else matches itself, case-sensitively. A check's cost is bounded by
/// the lengths of the pattern and the resource alone, never by what they hold (<see cref="GlobProgram"/>): a grant is
/// written by whoever holds it, and a pattern crafted to be slow must not slow anyone else's checks.
/// </summary>
public sealed class PathPattern
{
    /// <summary>
    /// How <see cref="Covers(PathPattern)"/> reads a <c>**</c> of the narrower pattern: a character no literal matches and no
    /// <c>*</c> crosses, so that only a <c>**</c> of the wider pattern absorbs it. A control character cannot be in a
    /// pattern, whose literal parts are normal.
    /// </summary>
    private const char DoubleStarSymbol = '\0';

    private readonly int _prefixLength;
    private readonly Shape _shape;

    // Built when first needed: a pattern parsed only to be compared with another (Covers) needs one of them at most.
    private GlobProgram? _program;
    private string? _symbols;

    private PathPattern(string text)
    {
        Text = text;
        var first = text.IndexOf('*', StringComparison.Ordinal);
        _prefixLength = first < 0 ? text.Length : first;
        // Most scopes are a literal, or a literal followed by one wildcard ("/workspace/**"): those match by comparing
        // strings.
        _shape = first < 0 ? Shape.Exact
            : text.AsSpan(first).ContainsAnyExcept('*') ? Shape.General
            : text.Length - first == 1 ? Shape.PrefixSegment
            : Shape.PrefixAny;
    }

    private enum Shape
    {
        Exact,
        PrefixAny,
        PrefixSegment,
        General,
    }

    public string Text { get; }

    /// <summary>Whether a wildcard stands before its end (not only a trailing <c>*</c> or <c>**</c>): what costs a check the most.</summary>
    public bool HasInnerWildcard => _shape == Shape.General;

    /// <summary>
    /// Accepts a pattern whose literal parts obey the same normal form as resources, so that a pattern can
    /// match at least one normal resource and no pattern hides a <c>..</c>.
    /// </summary>
    public static bool TryParse(string text, ResourceKind kind, out PathPattern pattern)
    {
        pattern = null!;
        // Replace each wildcard by a plain letter; the rest must then be a normal resource of its kind.
        var probe = text.Replace("*", "x", StringComparison.Ordinal);
        if (!ResourceNames.IsNormal(probe, kind))
        {
            return false;
        }

        pattern = new PathPattern(text);
        return true;
    }

    /// <summary>Whether a resource, already known to be normal, matches.</summary>
    public bool Matches(string resource) => Matches(resource, out _);

    /// <summary>
    /// Whether every resource <paramref name="narrower"/> matches is also matched by this pattern. Decided on the
    /// patterns themselves: a wildcard of the narrower pattern is covered only by a wildcard at least as wide
    /// (<c>*</c> by <c>*</c> or <c>**</c>, <c>**</c> by <c>**</c>). Sound, and deliberately not complete: when in doubt,
    /// the answer is no.
    /// </summary>
    /// <remarks>
    /// This pattern is matched against the narrower one's text, in which a <c>*</c> stands for itself (a character no
    /// literal matches but a <c>*</c> crosses) and a <c>**</c> for <see cref="DoubleStarSymbol"/>. That is the rule the
    /// table over pairs of tokens decided before, with the same answers, as the same bounded run as a check: on a text
    /// of at most a pattern's length, with nothing allocated beyond that text, built once per pattern.
    /// </remarks>
    public bool Covers(PathPattern narrower) => Covers(narrower, out _);

    /// <summary><see cref="Matches(string)"/>, counting the word operations it spent (see <see cref="GlobProgram"/>).</summary>
    internal bool Matches(string resource, out int work) => Matches(resource, '/', out work);

    /// <summary><see cref="Covers(PathPattern)"/>, counting the word operations it spent.</summary>
    internal bool Covers(PathPattern narrower, out int work) => Matches(narrower._symbols ??= Symbols(narrower.Text), DoubleStarSymbol, out work);

    private bool Matches(string text, char barrier, out int work)
    {
        work = 0;
        var prefix = Text.AsSpan(0, _prefixLength);
        return _shape switch
        {
            Shape.Exact => string.Equals(text, Text, StringComparison.Ordinal),
            Shape.PrefixAny => text.AsSpan().StartsWith(prefix),
            Shape.PrefixSegment => text.AsSpan().StartsWith(prefix) && text.AsSpan(_prefixLength).IndexOfAny('/', barrier) < 0,
            _ => (_program ??= new GlobProgram(Text, _prefixLength, Text.LastIndexOf('*') + 1)).Matches(text, barrier, out work),
        };
    }

    /// <summary>The pattern as <see cref="Covers(PathPattern)"/> reads a narrower one: each run of two or more stars as one symbol.</summary>
    private static string Symbols(string text)
    {
        if (!text.Contains("**", StringComparison.Ordinal))
        {
            return text;
        }

        var symbols = new System.Text.StringBuilder(text.Length);
        for (var i = 0; i < text.Length; i++)
        {
            if (text[i] == '*' && i + 1 < text.Length && text[i + 1] == '*')
            {
                symbols.Append(DoubleStarSymbol);
                while (i + 1 < text.Length && text[i + 1] == '*')
                {
                    i++;
                }
            }
            else
            {
                symbols.Append(text[i]);
            }
        }

        return symbols.ToString();
    }
}

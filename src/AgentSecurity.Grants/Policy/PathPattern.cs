namespace AgentSecurity.Grants.Policy;

/// <summary>
/// A scope pattern over paths (<c>fileSystem</c>) or keys (<c>memory</c>): <c>*</c> matches any characters but
/// <c>/</c>, <c>**</c> any characters; everything else matches itself, case-sensitively. Matching runs in
/// O(pattern × resource) with no backtracking, so no pattern can make a check slow.
/// </summary>
public sealed class PathPattern
{
    private const char Literal = '\0';
    private readonly Token[] _tokens;
    private readonly string _literalPrefix;
    private readonly Shape _shape;

    private PathPattern(string text, Token[] tokens)
    {
        Text = text;
        _tokens = tokens;
        _literalPrefix = new string(tokens.TakeWhile(t => t.Kind == Literal).Select(t => t.Char).ToArray());
        // Most scopes are a literal, or a literal followed by one wildcard ("/workspace/**"): those match without
        // the general automaton.
        var rest = tokens.Length - _literalPrefix.Length;
        _shape = rest == 0 ? Shape.Exact
            : rest == 1 && tokens[^1].Kind == 'D' ? Shape.PrefixAny
            : rest == 1 && tokens[^1].Kind == 'S' ? Shape.PrefixSegment
            : Shape.General;
    }

    private enum Shape
    {
        Exact,
        PrefixAny,
        PrefixSegment,
        General,
    }

    public string Text { get; }

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

        var tokens = new List<Token>(text.Length);
        for (var i = 0; i < text.Length; i++)
        {
            if (text[i] != '*')
            {
                tokens.Add(new Token(Literal, text[i]));
            }
            else if (i + 1 < text.Length && text[i + 1] == '*')
            {
                tokens.Add(new Token('D', '\0'));
                while (i + 1 < text.Length && text[i + 1] == '*')
                {
                    i++; // *** and longer read as **
                }
            }
            else
            {
                tokens.Add(new Token('S', '\0'));
            }
        }

        pattern = new PathPattern(text, tokens.ToArray());
        return true;
    }

    /// <summary>Whether a resource, already known to be normal, matches.</summary>
    public bool Matches(string resource)
    {
        if (!resource.StartsWith(_literalPrefix, StringComparison.Ordinal))
        {
            return false;
        }

        switch (_shape)
        {
            case Shape.Exact:
                return resource.Length == _literalPrefix.Length;
            case Shape.PrefixAny:
                return true;
            case Shape.PrefixSegment:
                return resource.AsSpan(_literalPrefix.Length).IndexOf('/') < 0;
        }

        var m = _tokens.Length;
        Span<bool> state = m < 512 ? stackalloc bool[m + 1] : new bool[m + 1];
        Span<bool> next = m < 512 ? stackalloc bool[m + 1] : new bool[m + 1];
        state[0] = true;
        Close(state);
        foreach (var c in resource)
        {
            next.Clear();
            var any = false;
            for (var j = 0; j < m; j++)
            {
                if (!state[j])
                {
                    continue;
                }

                var token = _tokens[j];
                if (token.Kind == Literal)
                {
                    if (token.Char == c)
                    {
                        next[j + 1] = any = true;
                    }
                }
                else if (token.Kind == 'D' || c != '/')
                {
                    next[j] = any = true;
                }
            }

            if (!any)
            {
                return false;
            }

            Close(next);
            next.CopyTo(state);
        }

        return state[m];
    }

    /// <summary>
    /// Whether every resource <paramref name="narrower"/> matches is also matched by this pattern. Decided on the
    /// patterns themselves: a wildcard of the narrower pattern is covered only by a wildcard at least as wide
    /// (<c>*</c> by <c>*</c> or <c>**</c>, <c>**</c> by <c>**</c>). Sound, and deliberately not complete: when in doubt,
    /// the answer is no.
    /// </summary>
    public bool Covers(PathPattern narrower)
    {
        var (p, c) = (_tokens, narrower._tokens);
        var reach = new bool[p.Length + 1, c.Length + 1];
        reach[0, 0] = true;
        for (var i = 0; i <= p.Length; i++)
        {
            for (var j = 0; j <= c.Length; j++)
            {
                if (!reach[i, j] || i == p.Length)
                {
                    continue;
                }

                var wide = p[i];
                if (wide.Kind == Literal)
                {
                    if (j < c.Length && c[j].Kind == Literal && c[j].Char == wide.Char)
                    {
                        reach[i + 1, j + 1] = true;
                    }

                    continue;
                }

                reach[i + 1, j] = true; // the wildcard stands for nothing
                if (j < c.Length && (wide.Kind == 'D' || c[j].Kind == 'S' || (c[j].Kind == Literal && c[j].Char != '/')))
                {
                    reach[i, j + 1] = true; // the wildcard absorbs the narrower pattern's next token
                }
            }
        }

        return reach[p.Length, c.Length];
    }

    // A wildcard may match nothing: whoever stands before it also stands after it.
    private void Close(Span<bool> state)
    {
        for (var j = 0; j < _tokens.Length; j++)
        {
            if (state[j] && _tokens[j].Kind != Literal)
            {
                state[j + 1] = true;
            }
        }
    }

    private readonly record struct Token(char Kind, char Char);
}

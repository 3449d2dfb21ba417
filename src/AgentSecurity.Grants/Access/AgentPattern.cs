using AgentSecurity.Grants.Documents;

namespace AgentSecurity.Grants.Access;

/// <summary>
/// Which agents of a tenant an access document covers: an agent id, where <c>*</c> matches any characters
/// (<c>support-*</c>, <c>*</c>). Matched greedily, so a pattern costs at most its length times the agent id's.
/// </summary>
public sealed class AgentPattern
{
    public const int MaxLength = 128;

    private readonly string _text;

    private AgentPattern(string text)
    {
        _text = text;
    }

    public string Text => _text;

    public static bool TryParse(string? text, out AgentPattern pattern)
    {
        pattern = null!;
        if (text is null || text.Length is 0 or > MaxLength || !Identifiers.IsAgentId(text.Replace('*', 'x')))
        {
            return false;
        }

        pattern = new AgentPattern(text);
        return true;
    }

    /// <summary>Whether the agent id matches: wildcard matching with backtracking to the last star only.</summary>
    public bool Matches(string agentId)
    {
        int p = 0, a = 0, star = -1, resume = 0;
        while (a < agentId.Length)
        {
            if (p < _text.Length && _text[p] != '*' && _text[p] == agentId[a])
            {
                p++;
                a++;
            }
            else if (p < _text.Length && _text[p] == '*')
            {
                star = p++;
                resume = a;
            }
            else if (star >= 0)
            {
                p = star + 1;
                a = ++resume;
            }
            else
            {
                return false;
            }
        }

        while (p < _text.Length && _text[p] == '*')
        {
            p++;
        }

        return p == _text.Length;
    }
}

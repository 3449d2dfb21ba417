using AgentSecurity.Grants.Capabilities;
using AgentSecurity.Grants.Documents;

namespace AgentSecurity.Benchmarks;

/// <summary>
/// Building blocks of scope lists written to be slow (<see cref="ScopeMatchBenchmarks"/>,
/// <see cref="DelegationCoverageBenchmarks"/>): families of distinct patterns as long as a pattern may be.
/// </summary>
internal static class ScopePatterns
{
    /// <summary>As many distinct patterns as a scope list may hold, each checked to be within the pattern bounds.</summary>
    public static string[] Vary(Func<int, string> pattern)
    {
        var patterns = Enumerable.Range(0, GrantTerms.MaxPatternsPerScope).Select(pattern).ToArray();
        if (patterns.Distinct().Count() != patterns.Length || patterns.Any(p => p.Length > GrantTerms.MaxPatternLength))
        {
            throw new InvalidOperationException($"{GrantTerms.MaxPatternsPerScope} distinct patterns of at most {GrantTerms.MaxPatternLength} characters expected: {patterns[0]}");
        }

        return patterns;
    }

    /// <summary>"abab…a", with the letters at <paramref name="swap"/> and the next swapped.</summary>
    public static char[] Letters(int count, int swap)
    {
        var letters = Enumerable.Range(0, count).Select(k => k % 2 == 0 ? 'a' : 'b').ToArray();
        (letters[swap], letters[swap + 1]) = (letters[swap + 1], letters[swap]);
        return letters;
    }

    /// <summary>The k-th of many distinct characters (from À on).</summary>
    public static char Letter(int k) => (char)('\u00C0' + k);

    public static string Repeat(string text, int count) => string.Concat(Enumerable.Repeat(text, count));

    /// <summary>
    /// Read-only file terms with these scopes, built directly: a document is at most 16 KB
    /// (<see cref="DocumentTypes.MaxDocumentBytes"/>), which holds fewer than 64 patterns of 256 characters, so the terms
    /// the pattern bounds allow are a little worse than any grant can be.
    /// </summary>
    public static GrantTerms Terms(DateTimeOffset now, string[] fileSystem) => new(
        new CapabilitySet(AccessLevel.Read, NetworkAccess.None, AccessLevel.None, false, false, false),
        new GrantScopes(fileSystem, null, null),
        ResourceLimits.None,
        IsolationLevel.Sandboxed,
        now.AddMinutes(-1),
        now.AddDays(1));
}

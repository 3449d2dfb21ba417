using System.Diagnostics;
using System.Text;
using System.Text.Json;
using AgentSecurity.Grants.Capabilities;
using AgentSecurity.Grants.Documents;
using AgentSecurity.Grants.Policy;

namespace AgentSecurity.Benchmarks;

/// <summary>
/// What a scope costs when its holder writes it to be slow. Checks: a typical grant and path against the worst grant
/// the bounds allow (patterns of 256 characters up to the scope list's budget for inner wildcards, none matching, so
/// each is tried) and a 1024-character path
/// chosen against the matcher, through <see cref="GrantPolicy.Decide"/>, alternating in the same run; several
/// families of patterns, each keeping as many candidate positions alive for as long as it can. Delegation: the
/// coverage decision of 64 child patterns against 64 parent patterns where only the last parent pattern covers, against
/// a typical one.
/// </summary>
internal static class ScopeMatchBenchmark
{
    private const int Rounds = 7;
    private const int TypicalIterations = 1_000_000;
    private const int WorstIterations = 2_000;

    public static void Run()
    {
        var now = DateTimeOffset.UtcNow;
        var typical = (Policy: Policy(now, ["/data/*/input.csv", "/tmp/agent-*/**", "/workspace/reports/*.md", "/workspace/**"]), Path: "/workspace/reports/q3/summary-final1.txt");
        // The worst grant a grant can be: as many of a family's patterns as the budget of characters with inner
        // wildcards per scope list allows (GrantTerms.MaxInnerWildcardCharacters), each as long as a pattern may be.
        var families = Families().Select(f => (f.Name, Policy: Policy(now, WithinBudget(f.Patterns)), f.Path, Count: WithinBudget(f.Patterns).Length)).ToArray();
        foreach (var family in families)
        {
            if (family.Policy.Decide("fileSystem:read", family.Path, now).Allowed)
            {
                throw new InvalidOperationException($"{family.Name}: the path matches, so not every pattern is tried");
            }
        }

        // Each check gets its own copy of the path, as each request brings its own string: what the matcher keeps from
        // one pattern to the next (TextMarks) serves the patterns of one check, not the next check.
        var typicalChecks = new List<double>();
        var worstChecks = families.Select(_ => new List<double>()).ToArray();
        for (var round = 0; round < Rounds; round++)
        {
            var typicalPaths = Copies(typical.Path);
            typicalChecks.Add(NanosPerOp(TypicalIterations, i => typical.Policy.Decide("fileSystem:read", typicalPaths[i & 63], now).Allowed, expected: true));
            for (var f = 0; f < families.Length; f++)
            {
                var family = families[f];
                var paths = Copies(family.Path);
                worstChecks[f].Add(NanosPerOp(WorstIterations, i => family.Policy.Decide("fileSystem:read", paths[i & 63], now).Allowed, expected: false));
            }
        }

        var baseline = DecisionBenchmark.Median(typicalChecks);
        Console.WriteLine($"scope check, typical (4 patterns, {typical.Path.Length}-character path): {baseline:F0} ns (median of {Rounds} rounds)");
        for (var f = 0; f < families.Length; f++)
        {
            var median = DecisionBenchmark.Median(worstChecks[f]);
            Console.WriteLine($"scope check, {families[f].Count} patterns of up to 256 characters ({GrantTerms.MaxInnerWildcardCharacters} in all), {families[f].Path.Length}-character path, {families[f].Name}: {median / 1000:F1} us ({median / baseline:F0}x typical)");
        }

        var worst = worstChecks.Select(DecisionBenchmark.Median).Max();
        Console.WriteLine($"scope check, worst family: {worst / 1000:F1} us, {worst / baseline:F0}x typical (a 16 KB proposal holds {PatternsPerDocument(now, Families().First().Patterns)} such patterns, not 64)");
        RunCoverage(now);
    }

    /// <summary>
    /// A delegation's scope coverage through <see cref="Attenuation.WithinParent"/> (which parses each pair's patterns
    /// as it goes), and the pattern decisions alone on patterns parsed once.
    /// </summary>
    private static void RunCoverage(DateTimeOffset now)
    {
        var typical = (Parent: Terms(now, ["/workspace/**"]), Child: Terms(now, ["/workspace/reports/*.md"]));
        var families = CoverageFamilies().Select(f => (f.Name, Parent: Terms(now, f.Wider), Child: Terms(now, f.Narrower), f.Wider, f.Narrower)).ToArray();
        var typicalCosts = new List<double>();
        var worstCosts = families.Select(_ => new List<double>()).ToArray();
        var pairCosts = families.Select(_ => new List<double>()).ToArray();
        for (var round = 0; round < Rounds; round++)
        {
            typicalCosts.Add(NanosPerOp(TypicalIterations / 10, _ => Attenuation.WithinParent(typical.Parent, typical.Child, PlatformLimits.None) is null, expected: true));
            for (var f = 0; f < families.Length; f++)
            {
                var family = families[f];
                worstCosts[f].Add(NanosPerOp(20, _ => Attenuation.WithinParent(family.Parent, family.Child, PlatformLimits.None) is null, expected: true));
                pairCosts[f].Add(NanosPerOp(20, _ =>
                {
                    var wider = family.Wider.Select(Parse).ToArray();
                    return family.Narrower.Select(Parse).All(n => wider.Any(w => w.Covers(n)));
                }, expected: true));
            }
        }

        var baseline = DecisionBenchmark.Median(typicalCosts);
        Console.WriteLine($"delegation coverage, typical (1 pattern in 1): {baseline:F0} ns");
        for (var f = 0; f < families.Length; f++)
        {
            var whole = DecisionBenchmark.Median(worstCosts[f]);
            var pairs = DecisionBenchmark.Median(pairCosts[f]);
            Console.WriteLine($"delegation coverage, 64 in 64 x 256-character patterns, {families[f].Name}: {whole / 1e6:F1} ms through WithinParent ({whole / baseline:F0}x typical); {pairs / 1e6:F1} ms with each pattern parsed once ({pairs / 4096:F0} ns a pair)");
        }
    }

    /// <summary>
    /// Families of 64 distinct patterns of at most 256 characters and a path of at most 1024 that none matches, each
    /// failing only near its end. Each costs every step of its pattern over every word of the path's positions.
    /// </summary>
    private static IEnumerable<(string Name, string[] Patterns, string Path)> Families()
    {
        // 127 single stars, each before a letter, in one segment: the letters must appear in order in one segment, and
        // segments hold 126 letters. Each pattern swaps two letters somewhere.
        yield return ("stars in a segment", Vary(i => "/" + string.Concat(Letters(127, i).Select(c => "*" + c)) + "*"),
            "/" + Repeat(Repeat("ab", 63) + "/", 8) + Repeat("ab", 3));
        // A path of 125 segments against patterns of 126 "/*" after a "**": every segment starts a partial match.
        yield return ("segment after segment", Vary(i => "/**" + Repeat("/*", i) + "/*a" + Repeat("/*", 125 - i)),
            "/" + Repeat("aaaaaaa/", 124) + "aaaaaaa");
        // Blocks holding a slash: 63 segments "a*a" in a row, against runs of 62 broken by a "b".
        yield return ("slashes inside blocks", Vary(i => "/**" + Repeat("a*a/", i % 63) + (i < 63 ? "*a/" : "a*/") + Repeat("a*a/", 62 - (i % 63)) + "**"),
            "/" + Repeat(Repeat("aa/", 62) + "b/", 5) + Repeat("aa/", 26) + "aa");
        // 126 distinct characters with a "*" after each, in one segment, against segments holding all but the last:
        // every character is looked for among many positions, so each needs its positions marked.
        yield return ("distinct characters in a segment", Vary(i => "/**" + string.Concat(Enumerable.Range(0, 125).Select(k => Letter(k) + "*")) + Letter(126 + i) + "*"),
            "/" + string.Join('/', Enumerable.Repeat(string.Concat(Enumerable.Range(0, 125).Select(Letter)), 8)));
        // A literal of 250 distinct characters after a "**": once it is down to a few positions, compared at each.
        yield return ("a long literal", Vary(i => "/**" + string.Concat(Enumerable.Range(0, 250).Select(Letter)) + Letter(250 + i) + "*"),
            "/" + new string('a', 700) + string.Concat(Enumerable.Range(0, 251).Select(Letter)) + "/x");
        // A "**" before each of 84 distinct characters, the path holding all but the last: a character mask each.
        yield return ("distinct characters", Vary(i => "/" + string.Concat(Enumerable.Range(0, 83).Select(k => "**" + Letter(k))) + "**" + Letter(83 + i) + "**"),
            "/" + string.Concat(Enumerable.Range(0, 83).Select(Letter)) + new string('x', 940));
    }

    /// <summary>
    /// Families of 64 child patterns that only the last of 64 parent patterns covers: the first 63 parent patterns each
    /// follow the child's text to its end before failing.
    /// </summary>
    private static IEnumerable<(string Name, string[] Wider, string[] Narrower)> CoverageFamilies()
    {
        yield return ("stars in a segment",
            [.. Vary(i => "/" + string.Concat(Letters(127, i).Select(c => "*" + c)) + "*").Take(63), "/**"],
            Vary(i => "/" + Repeat("ab", 63) + "/" + Repeat("ab", 63) + "*" + Letter(i)));
        yield return ("segment after segment",
            [.. Vary(i => "/**" + Repeat("/*", i) + "/*a" + Repeat("/*", 125 - i)).Take(63), "/**"],
            Vary(i => "/" + Repeat("a/", 124) + Letter(i) + "*"));
        yield return ("slashes inside blocks",
            [.. Vary(i => "/**" + Repeat("a*a/", i % 63) + (i < 63 ? "*a/" : "a*/") + Repeat("a*a/", 62 - (i % 63)) + "**").Take(63), "/**"],
            Vary(i => "/" + Repeat("aa/", 62) + "b/" + Repeat("aa/", 21) + Letter(i)));
    }

    /// <summary>The first patterns whose lengths add up to no more than the budget a scope list has for inner wildcards.</summary>
    private static string[] WithinBudget(string[] patterns)
    {
        var total = 0;
        return patterns.TakeWhile(p => (total += p.Length) <= GrantTerms.MaxInnerWildcardCharacters).ToArray();
    }

    private static string[] Vary(Func<int, string> pattern)
    {
        var patterns = Enumerable.Range(0, GrantTerms.MaxPatternsPerScope).Select(pattern).ToArray();
        if (patterns.Distinct().Count() != patterns.Length || patterns.Any(p => p.Length > GrantTerms.MaxPatternLength))
        {
            throw new InvalidOperationException($"64 distinct patterns of at most {GrantTerms.MaxPatternLength} characters expected: {patterns[0]}");
        }

        return patterns;
    }

    /// <summary>"abab…a", with the letters at <paramref name="swap"/> and the next swapped.</summary>
    private static char[] Letters(int count, int swap)
    {
        var letters = Enumerable.Range(0, count).Select(k => k % 2 == 0 ? 'a' : 'b').ToArray();
        (letters[swap], letters[swap + 1]) = (letters[swap + 1], letters[swap]);
        return letters;
    }

    private static char Letter(int k) => (char)('\u00C0' + k);

    private static string Repeat(string text, int count) => string.Concat(Enumerable.Repeat(text, count));

    private static PathPattern Parse(string pattern) =>
        PathPattern.TryParse(pattern, ResourceKind.Path, out var parsed) ? parsed : throw new InvalidOperationException(pattern);

    private static GrantPolicy Policy(DateTimeOffset now, string[] fileSystem) => new(Terms(now, fileSystem), TimeSpan.FromSeconds(60));

    /// <summary>
    /// Terms built directly: a document is at most 16 KB (<see cref="DocumentTypes.MaxDocumentBytes"/>), which holds
    /// fewer than 64 patterns of 256 characters (<see cref="PatternsPerDocument"/>), so the terms the pattern bounds
    /// allow are a little worse than any grant can be.
    /// </summary>
    private static GrantTerms Terms(DateTimeOffset now, string[] fileSystem) => new(
        new CapabilitySet(AccessLevel.Read, NetworkAccess.None, AccessLevel.None, false, false, false),
        new GrantScopes(fileSystem, null, null),
        ResourceLimits.None,
        IsolationLevel.Sandboxed,
        now.AddMinutes(-1),
        now.AddDays(1));

    /// <summary>How many of the patterns a proposal, read as the grant's holder would send it, can carry.</summary>
    private static int PatternsPerDocument(DateTimeOffset now, string[] patterns)
    {
        for (var count = patterns.Length; count > 0; count--)
        {
            var json = $$"""
                {"capabilities":{"fileSystem":"read","network":"none","memory":"none","subprocess":false,"vectorDb":false,"llm":false},"scopes":{"fileSystem":{{JsonSerializer.Serialize(patterns[..count])}}},"environmentIsolation":"sandboxed","expiresAt":"{{DocumentTime.ToText(now.AddDays(1))}}"}
                """;
            if (GrantTerms.ParseProposal(Encoding.UTF8.GetBytes(json), now).Succeeded)
            {
                return count;
            }
        }

        return 0;
    }

    private static string[] Copies(string path) => [.. Enumerable.Range(0, 64).Select(_ => new string(path.AsSpan()))];

    private static double NanosPerOp(int iterations, Func<int, bool> op, bool expected)
    {
        var wrong = 0;
        var started = Stopwatch.GetTimestamp();
        for (var i = 0; i < iterations; i++)
        {
            wrong += op(i) == expected ? 0 : 1;
        }

        var elapsed = Stopwatch.GetElapsedTime(started);
        if (wrong != 0)
        {
            throw new InvalidOperationException($"{wrong} of {iterations} answers were not {expected}");
        }

        return elapsed.TotalNanoseconds / iterations;
    }
}

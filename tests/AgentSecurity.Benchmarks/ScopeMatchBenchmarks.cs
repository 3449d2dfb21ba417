using AgentSecurity.Grants.Documents;
using AgentSecurity.Grants.Policy;
using BenchmarkDotNet.Attributes;
using static AgentSecurity.Benchmarks.ScopePatterns;

namespace AgentSecurity.Benchmarks;

/// <summary>
/// What a scope check costs when its grant's holder writes the scopes to be slow (<see cref="GrantPolicy.Decide"/>):
/// a typical grant and path against the worst grants the bounds allow. Each worst grant holds as many of a family's
/// 256-character patterns as the budget of characters with inner wildcards per scope list allows
/// (<see cref="GrantTerms.MaxInnerWildcardCharacters"/>), none matching its path of up to 1024 characters, so each is
/// tried; each family keeps as many candidate positions alive for as long as it can, and fails only near its end.
/// </summary>
[MemoryDiagnoser]
public class ScopeMatchBenchmarks
{
    private ScopeCheck _typical = null!;
    private ScopeCheck _starsInASegment = null!;
    private ScopeCheck _segmentAfterSegment = null!;
    private ScopeCheck _slashesInsideBlocks = null!;
    private ScopeCheck _distinctCharactersInASegment = null!;
    private ScopeCheck _longLiteral = null!;
    private ScopeCheck _distinctCharacters = null!;

    [GlobalSetup]
    public void Setup()
    {
        var now = DateTimeOffset.UtcNow;
        _typical = new ScopeCheck(now, ["/data/*/input.csv", "/tmp/agent-*/**", "/workspace/reports/*.md", "/workspace/**"],
            "/workspace/reports/q3/summary-final1.txt", allowed: true);

        // 127 single stars, each before a letter, in one segment: the letters must appear in order in one segment, and
        // segments hold 126 letters. Each pattern swaps two letters somewhere.
        _starsInASegment = Worst(now, Vary(i => "/" + string.Concat(Letters(127, i).Select(c => "*" + c)) + "*"),
            "/" + Repeat(Repeat("ab", 63) + "/", 8) + Repeat("ab", 3));

        // A path of 125 segments against patterns of 126 "/*" after a "**": every segment starts a partial match.
        _segmentAfterSegment = Worst(now, Vary(i => "/**" + Repeat("/*", i) + "/*a" + Repeat("/*", 125 - i)),
            "/" + Repeat("aaaaaaa/", 124) + "aaaaaaa");

        // Blocks holding a slash: 63 segments "a*a" in a row, against runs of 62 broken by a "b".
        _slashesInsideBlocks = Worst(now, Vary(i => "/**" + Repeat("a*a/", i % 63) + (i < 63 ? "*a/" : "a*/") + Repeat("a*a/", 62 - (i % 63)) + "**"),
            "/" + Repeat(Repeat("aa/", 62) + "b/", 5) + Repeat("aa/", 26) + "aa");

        // 126 distinct characters with a "*" after each, in one segment, against segments holding all but the last:
        // every character is looked for among many positions, so each needs its positions marked.
        _distinctCharactersInASegment = Worst(now, Vary(i => "/**" + string.Concat(Enumerable.Range(0, 125).Select(k => Letter(k) + "*")) + Letter(126 + i) + "*"),
            "/" + string.Join('/', Enumerable.Repeat(string.Concat(Enumerable.Range(0, 125).Select(Letter)), 8)));

        // A literal of 250 distinct characters after a "**": once it is down to a few positions, compared at each.
        _longLiteral = Worst(now, Vary(i => "/**" + string.Concat(Enumerable.Range(0, 250).Select(Letter)) + Letter(250 + i) + "*"),
            "/" + new string('a', 700) + string.Concat(Enumerable.Range(0, 251).Select(Letter)) + "/x");

        // A "**" before each of 84 distinct characters, the path holding all but the last: a character mask each.
        _distinctCharacters = Worst(now, Vary(i => "/" + string.Concat(Enumerable.Range(0, 83).Select(k => "**" + Letter(k))) + "**" + Letter(83 + i) + "**"),
            "/" + string.Concat(Enumerable.Range(0, 83).Select(Letter)) + new string('x', 940));
    }

    [Benchmark(Baseline = true)]
    public bool Typical() => _typical.Decide();

    [Benchmark]
    public bool StarsInASegment() => _starsInASegment.Decide();

    [Benchmark]
    public bool SegmentAfterSegment() => _segmentAfterSegment.Decide();

    [Benchmark]
    public bool SlashesInsideBlocks() => _slashesInsideBlocks.Decide();

    [Benchmark]
    public bool DistinctCharactersInASegment() => _distinctCharactersInASegment.Decide();

    [Benchmark]
    public bool LongLiteral() => _longLiteral.Decide();

    [Benchmark]
    public bool DistinctCharacters() => _distinctCharacters.Decide();

    /// <summary>The first patterns of a family whose lengths add up to no more than a scope list's wildcard budget.</summary>
    private static ScopeCheck Worst(DateTimeOffset now, string[] patterns, string path)
    {
        var total = 0;
        return new ScopeCheck(now, [.. patterns.TakeWhile(p => (total += p.Length) <= GrantTerms.MaxInnerWildcardCharacters)], path, allowed: false);
    }

    /// <summary>
    /// A file read of one path under one scope list. Each check gets its own copy of the path, as each request brings
    /// its own string: what the matcher keeps from one pattern to the next (<c>TextMarks</c>, by the string's reference)
    /// serves the patterns of one check, not the next check.
    /// </summary>
    private sealed class ScopeCheck
    {
        private readonly GrantPolicy _policy;
        private readonly string[] _paths;
        private readonly DateTimeOffset _now;
        private int _next;

        public ScopeCheck(DateTimeOffset now, string[] patterns, string path, bool allowed)
        {
            _policy = new GrantPolicy(Terms(now, patterns), TimeSpan.FromSeconds(60));
            _paths = [.. Enumerable.Range(0, 64).Select(_ => new string(path.AsSpan()))];
            _now = now;
            if (Decide() != allowed)
            {
                throw new InvalidOperationException($"{path} should be {(allowed ? "allowed" : "denied after every pattern is tried")}");
            }
        }

        public bool Decide() => _policy.Decide("fileSystem:read", _paths[_next++ & 63], _now).Allowed;
    }
}

using AgentSecurity.Grants.Capabilities;
using AgentSecurity.Grants.Documents;
using AgentSecurity.Grants.Policy;
using BenchmarkDotNet.Attributes;
using static AgentSecurity.Benchmarks.ScopePatterns;

namespace AgentSecurity.Benchmarks;

/// <summary>
/// Whether a delegation's scopes stay within its parent's (<see cref="Attenuation.WithinParent"/>, which parses each
/// pair's patterns as it goes): a typical pair (one pattern in one) against 64 child patterns of 256 characters that
/// only the last of 64 parent patterns covers, so the first 63 each follow the child's text to its end before failing.
/// The same families decided on patterns parsed once each (<see cref="PathPattern.Covers(PathPattern)"/>) show what of it
/// is parsing.
/// </summary>
[MemoryDiagnoser]
public class DelegationCoverageBenchmarks
{
    private Delegation _typical = null!;
    private Delegation _starsInASegment = null!;
    private Delegation _segmentAfterSegment = null!;
    private Delegation _slashesInsideBlocks = null!;

    [GlobalSetup]
    public void Setup()
    {
        var now = DateTimeOffset.UtcNow;
        _typical = new Delegation(now, ["/workspace/**"], ["/workspace/reports/*.md"]);
        _starsInASegment = new Delegation(now,
            [.. Vary(i => "/" + string.Concat(Letters(127, i).Select(c => "*" + c)) + "*").Take(63), "/**"],
            Vary(i => "/" + Repeat("ab", 63) + "/" + Repeat("ab", 63) + "*" + Letter(i)));
        _segmentAfterSegment = new Delegation(now,
            [.. Vary(i => "/**" + Repeat("/*", i) + "/*a" + Repeat("/*", 125 - i)).Take(63), "/**"],
            Vary(i => "/" + Repeat("a/", 124) + Letter(i) + "*"));
        _slashesInsideBlocks = new Delegation(now,
            [.. Vary(i => "/**" + Repeat("a*a/", i % 63) + (i < 63 ? "*a/" : "a*/") + Repeat("a*a/", 62 - (i % 63)) + "**").Take(63), "/**"],
            Vary(i => "/" + Repeat("aa/", 62) + "b/" + Repeat("aa/", 21) + Letter(i)));
    }

    [Benchmark(Baseline = true)]
    public bool Typical() => _typical.Covered();

    [Benchmark]
    public bool StarsInASegment() => _starsInASegment.Covered();

    [Benchmark]
    public bool SegmentAfterSegment() => _segmentAfterSegment.Covered();

    [Benchmark]
    public bool SlashesInsideBlocks() => _slashesInsideBlocks.Covered();

    [Benchmark]
    public bool StarsInASegmentParsedOnce() => _starsInASegment.CoveredParsingOnce();

    [Benchmark]
    public bool SegmentAfterSegmentParsedOnce() => _segmentAfterSegment.CoveredParsingOnce();

    [Benchmark]
    public bool SlashesInsideBlocksParsedOnce() => _slashesInsideBlocks.CoveredParsingOnce();

    /// <summary>A parent's and a child's file scopes, the child's covered.</summary>
    private sealed class Delegation
    {
        private readonly string[] _wider;
        private readonly string[] _narrower;
        private readonly GrantTerms _parent;
        private readonly GrantTerms _child;

        public Delegation(DateTimeOffset now, string[] wider, string[] narrower)
        {
            (_wider, _narrower) = (wider, narrower);
            (_parent, _child) = (Terms(now, wider), Terms(now, narrower));
            if (!Covered() || !CoveredParsingOnce())
            {
                throw new InvalidOperationException($"the child's scopes should be within the parent's: {narrower[0]}");
            }
        }

        public bool Covered() => Attenuation.WithinParent(_parent, _child, PlatformLimits.None) is null;

        public bool CoveredParsingOnce()
        {
            var wider = _wider.Select(Parse).ToArray();
            return _narrower.Select(Parse).All(n => wider.Any(w => w.Covers(n)));
        }

        private static PathPattern Parse(string pattern) =>
            PathPattern.TryParse(pattern, ResourceKind.Path, out var parsed) ? parsed : throw new InvalidOperationException(pattern);
    }
}

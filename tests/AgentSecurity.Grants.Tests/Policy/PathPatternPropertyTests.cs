using AgentSecurity.Grants.Policy;
using CsCheck;

namespace AgentSecurity.Grants.Tests.Policy;

/// <summary>
/// Matching and coverage compared with independent oracles on random small patterns, where every shape the matcher
/// treats specially (prefix only, one trailing wildcard, stars in a row, <c>/</c> inside a block, an empty first
/// block) comes up thousands of times.
/// </summary>
public sealed class PathPatternPropertyTests
{
    // A regular expression with RegexOptions.NonBacktracking takes about a millisecond to build: few patterns, each
    // against many resources.
    private const int Patterns = 1_500;

    [Theory]
    [InlineData(ResourceKind.Path)]
    [InlineData(ResourceKind.Key)]
    public void Matches_RandomPatternsAndResources_AgreesWithRegex(ResourceKind kind)
    {
        var compared = 0;
        var matched = 0;
        PatternOracles.Pattern(kind)
            .SelectMany(p => Gen.Select(Gen.Const(p), PatternOracles.Resource(kind).Array[12], PatternOracles.Instance(p).Array[12]))
            .Sample((pattern, resources, instances) =>
            {
                Assert.True(PathPattern.TryParse(pattern, kind, out var compiled), pattern);
                var oracle = PatternOracles.Regex(pattern);
                foreach (var resource in resources.Concat(instances).Where(r => ResourceNames.IsNormal(r, kind)))
                {
                    var expected = oracle.IsMatch(resource);
                    if (compiled.Matches(resource, out var work) != expected)
                    {
                        return false;
                    }

                    // The bound GlobProgram promises: a word per 64 characters, per step and per distinct character.
                    Assert.True(work <= ((2 * pattern.Length) + 1) * ((resource.Length / 64) + 1), $"{pattern} against {resource}: {work}");
                    Interlocked.Increment(ref compared);
                    if (expected)
                    {
                        Interlocked.Increment(ref matched);
                    }
                }

                return true;
            }, iter: Patterns);

        // Not vacuous: plenty of comparisons, and both answers well represented.
        Assert.True(compared > Patterns * 10, $"only {compared} comparisons");
        Assert.True(matched > compared / 5 && matched < compared * 4 / 5, $"{matched} of {compared} matched");
    }

    [Theory]
    [InlineData(ResourceKind.Path)]
    [InlineData(ResourceKind.Key)]
    public void Covers_RandomPairs_DecidesAsTheCoverageTable(ResourceKind kind)
    {
        var covered = 0;
        Gen.Select(PatternOracles.Pattern(kind), PatternOracles.Pattern(kind), Narrowing(kind))
            .Sample((wider, other, narrowed) =>
            {
                Assert.True(PathPattern.TryParse(wider, kind, out var w));
                foreach (var narrower in new[] { other, narrowed(wider) }.Where(n => PathPattern.TryParse(n, kind, out _)))
                {
                    PathPattern.TryParse(narrower, kind, out var n);
                    var expected = PatternOracles.CoversByTable(wider, narrower);
                    if (w.Covers(n, out var work) != expected)
                    {
                        return false;
                    }

                    Assert.True(work <= ((2 * wider.Length) + 1) * ((narrower.Length / 64) + 1), $"{wider} over {narrower}: {work}");
                    if (expected)
                    {
                        Interlocked.Increment(ref covered);
                    }
                }

                return true;
            }, iter: Patterns * 8);

        Assert.True(covered > Patterns * 4, $"only {covered} pairs covered");
    }

    [Theory]
    [InlineData(ResourceKind.Path)]
    [InlineData(ResourceKind.Key)]
    public void Covers_WhenTrue_EveryResourceOfTheNarrowerMatchesTheWider(ResourceKind kind)
    {
        var checkedResources = 0;
        Gen.Select(PatternOracles.Pattern(kind), Narrowing(kind))
            .Select(pair => (pair.Item1, pair.Item2(pair.Item1)))
            .SelectMany(pair => Gen.Select(Gen.Const(pair), PatternOracles.Instance(pair.Item2).Array[16]))
            .Sample((pair, instances) =>
            {
                var (wider, narrower) = pair;
                if (!PathPattern.TryParse(narrower, kind, out var n) || !PathPattern.TryParse(wider, kind, out var w) || !w.Covers(n))
                {
                    return true;
                }

                // Instances fill the narrower pattern's wildcards as its contract says, so it matches every normal one.
                var widerOracle = PatternOracles.Regex(wider);
                foreach (var resource in instances.Where(r => ResourceNames.IsNormal(r, kind)))
                {
                    Assert.True(n.Matches(resource), $"{narrower} against {resource}");
                    Interlocked.Increment(ref checkedResources);
                    if (!widerOracle.IsMatch(resource))
                    {
                        return false;
                    }
                }

                return true;
            }, iter: Patterns);

        Assert.True(checkedResources > Patterns * 5, $"only {checkedResources} resources checked");
    }

    /// <summary>
    /// Edits that make a pattern narrower (or leave it be): a <c>**</c> becomes <c>*</c>, <c>*/*</c> or a letter, a
    /// <c>*</c> a letter or <c>a*</c>. Random pairs are rarely within each other; these mostly are.
    /// </summary>
    private static Gen<Func<string, string>> Narrowing(ResourceKind kind) =>
        Gen.Int[0, 5].Array[12].Select(choices => (Func<string, string>)(pattern =>
        {
            var text = new System.Text.StringBuilder();
            var edit = 0;
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

                var choice = choices[edit++ % choices.Length];
                text.Append((doubleStar, choice) switch
                {
                    (true, 0) => "*",
                    (true, 1) => "*/*",
                    (true, 2) => "b",
                    (true, _) => "**",
                    (false, 0) => "a",
                    (false, 1) => "a*",
                    (false, 2) => "*b*",
                    (false, _) => "*",
                });
            }

            return kind == ResourceKind.Path || text.Length > 0 ? text.ToString() : "a";
        }));
}

using AgentSecurity.Grants.Policy;
using CsCheck;

namespace AgentSecurity.Grants.Tests.Policy;

/// <summary>
/// The two ways a program runs, in vector registers and a word at a time, must agree: the pattern tests reach the
/// registers only for texts of 256 characters or more, and only on processors that have them. These run both on
/// long texts and hold each to the other and to a regular expression.
/// </summary>
public sealed class PositionVectorsTests
{
    private static readonly Gen<string> LongSegment = Gen.Char["ab"].Array[1, 90].Select(c => new string(c));

    // Long resources (up to about 1,800 characters: past what the registers hold, too) made of long segments, and
    // patterns whose instances are such resources.
    private static readonly Gen<string> LongResource = LongSegment.Array[3, 20].Select(s => "/" + string.Join('/', s));

    [Fact]
    public void Run_LongTexts_RegistersAgreeWithWords()
    {
        if (!PositionVectors.Supported)
        {
            return; // nothing to compare on this processor
        }

        var compared = 0;
        var matched = 0;
        PatternOracles.Pattern(ResourceKind.Path).Where(p => p.Contains('*'))
            .SelectMany(p => Gen.Select(Gen.Const(p), LongResource.Array[4], PatternOracles.Instance(p).Array[4]))
            .Sample((pattern, resources, instances) =>
            {
                var program = new GlobProgram(pattern, pattern.IndexOf('*'), pattern.LastIndexOf('*') + 1);
                var oracle = PatternOracles.Regex(pattern);
                foreach (var resource in resources.Concat(instances.Select(i => i + "/" + new string('a', 300))).Concat(instances))
                {
                    var expected = oracle.IsMatch(resource);
                    if (program.Matches(resource, '/', wide: true, out _) != expected || program.Matches(resource, '/', wide: false, out _) != expected)
                    {
                        return false;
                    }

                    Interlocked.Increment(ref compared);
                    if (expected)
                    {
                        Interlocked.Increment(ref matched);
                    }
                }

                return true;
            }, iter: 1_000);

        Assert.True(compared > 10_000 && matched > 500, $"{matched} of {compared} matched");
    }

    [Theory]
    [InlineData(63)]
    [InlineData(64)]
    [InlineData(200)]
    [InlineData(511)]
    [InlineData(512)]
    [InlineData(700)]
    public void Run_LongPrefix_StartsAfterIt(int prefix)
    {
        // The run starts where the literal prefix ends, in whichever word or register that is (and a * from anywhere
        // before would stop at the prefix's last slash); texts of 320 characters or more, so that registers are used.
        var literal = "/" + new string('a', prefix - 2) + "/";
        var pattern = literal + "*b*c";
        var program = new GlobProgram(pattern, prefix, pattern.Length - 1);
        var before = new string('x', Math.Max(0, 320 - prefix));
        foreach (var (middle, matches) in new[] { ("b", true), ("/b", false), ("x", false) })
        {
            var text = literal + before + middle + "xxx" + "c";
            Assert.Equal(matches, PatternOracles.Regex(pattern).IsMatch(text));
            Assert.Equal(matches, program.Matches(text, '/', wide: true, out _));
            Assert.Equal(matches, program.Matches(text, '/', wide: false, out _));
        }
    }

    [Fact]
    public void Run_TextsOneAfterAnother_MarksFollowTheText()
    {
        // Marks are kept from one run to the next while the text is the same string: a new text of the same length,
        // the same text with another barrier, or back to the first, must each be read afresh.
        const string Pattern = "/**x*y/**";
        var program = new GlobProgram(Pattern, 1, Pattern.Length);
        var first = "/" + new string('a', 400) + "xay/" + new string('a', 400);
        var second = "/" + new string('a', 400) + "xa/y" + new string('a', 400);
        var symbols = "/" + new string('a', 400) + "xa\0y/" + new string('a', 400);

        foreach (var (text, barrier, matches) in new[] { (first, '/', true), (second, '/', false), (first, '/', true), (symbols, '\0', false), (symbols, '/', true) })
        {
            Assert.Equal(matches, program.Matches(text, barrier, wide: true, out _));
            Assert.Equal(matches, program.Matches(text, barrier, wide: false, out _));
        }
    }

    [Theory]
    [InlineData(62)]
    [InlineData(63)]
    [InlineData(509)]
    [InlineData(510)]
    [InlineData(511)]
    [InlineData(1021)]
    [InlineData(1022)]
    [InlineData(1023)]
    public void Run_LiteralAcrossWordsAndRegisters_MovesTheOnlyPosition(int before)
    {
        // Only one position survives "bc": the one after `before` letters, moving across a word (64 positions) or a
        // register (512 positions) between "b" and "c".
        const string Pattern = "/*bc*";
        var resource = "/" + new string('a', before) + "bc" + new string('a', 5);
        var program = new GlobProgram(Pattern, 1, Pattern.Length);

        Assert.True(program.Matches(resource, '/', wide: false, out _));
        Assert.True(program.Matches(resource, '/', wide: true, out _));
        Assert.False(program.Matches(resource.Replace("bc", "bd", StringComparison.Ordinal), '/', wide: true, out _));
    }

    [Theory]
    [InlineData("/a*", 150, -1, true)]
    [InlineData("/a*", 150, 70, false)]
    [InlineData("/a*b", 700, -1, true)]
    [InlineData("/a*b", 700, 600, false)]
    [InlineData("/a**b", 700, 600, true)]
    [InlineData("/*/*b", 1000, 500, true)]
    [InlineData("/*/*b", 1000, 64, true)]
    [InlineData("/*/*b", 1000, 63, true)]
    [InlineData("/*/*b", 1000, 511, true)]
    [InlineData("/*/*b", 1000, 512, true)]
    public void Run_StarAcrossWordsAndRegisters_StopsAtTheSlash(string pattern, int length, int slash, bool matches)
    {
        // "/" then `length` letters ending in b, with a slash at `slash` (-1: none).
        var letters = new string('a', length - 1).ToCharArray();
        if (slash >= 0)
        {
            letters[slash] = '/';
        }

        var resource = "/" + new string(letters) + "b";
        var program = new GlobProgram(pattern, pattern.IndexOf('*'), pattern.LastIndexOf('*') + 1);

        Assert.Equal(matches, PatternOracles.Regex(pattern).IsMatch(resource));
        Assert.Equal(matches, program.Matches(resource, '/', wide: false, out _));
        Assert.Equal(matches, program.Matches(resource, '/', wide: true, out _));
    }
}

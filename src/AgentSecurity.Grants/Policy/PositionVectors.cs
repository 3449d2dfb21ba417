using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace AgentSecurity.Grants.Policy;

/// <summary>
/// A <see cref="PositionSet"/> of up to 1,536 positions (any normal resource or pattern) held in three 512-bit
/// registers, where the processor has them. The steps are the same operations on the same bits; what changes is that
/// a step costs a few instructions instead of a loop over words through memory, which for the longest patterns
/// against the longest resources is most of a check.
/// </summary>
internal static class PositionVectors
{
    /// <summary>Three registers of eight words: texts of up to 1,535 characters.</summary>
    public const int MaxWords = 24;

    // Below this many positions, looking at each one's character costs less than marking a character's positions over
    // the whole text: a long literal of distinct characters after a ** costs one mark, not one per character.
    private const int FewPositions = 16;

    public static readonly bool Supported = Vector512.IsHardwareAccelerated && Avx512F.IsSupported;

    // Each lane's bit, to turn a mask of lanes into a vector; each lane's word index, to compare lanes with one.
    private static readonly Vector512<ulong> LaneBits = Vector512.Create(1UL, 2, 4, 8, 16, 32, 64, 128);
    private static readonly Vector512<ulong> Lanes0 = Vector512.Create(0UL, 1, 2, 3, 4, 5, 6, 7);
    private static readonly Vector512<ulong> Lanes1 = Lanes0 + Vector512.Create(8UL);
    private static readonly Vector512<ulong> Lanes2 = Lanes0 + Vector512.Create(16UL);

    /// <summary>
    /// Runs the steps of <paramref name="program"/> over the positions of <paramref name="text"/> from
    /// <paramref name="start"/>, and says whether <paramref name="end"/> is reached. Positions are the whole text's, not
    /// just those between the pattern's prefix and suffix (the positions past <paramref name="end"/> never lead back to
    /// it), so that the text's marks serve every pattern (<see cref="TextMarks"/>).
    /// </summary>
    public static bool Run(string text, int start, int end, char barrier, GlobProgram program, out int work)
    {
        var used = PositionSet.WordsFor(text.Length);
        var vectors = (used + 7) >> 3; // registers past these stay zero, and their work is skipped
        var textMarks = TextMarks.For(text, barrier);
        var spent = used;
        var (c0, c1, c2) = Load(textMarks.Crossable);
        var last = (ulong)(text.Length >> 6);
        var lastWord = Vector512.Create(ulong.MaxValue >> (63 - (text.Length & 63)));
        var (e0, e1, e2) = (UpTo(Lanes0, last, lastWord), UpTo(Lanes1, last, lastWord), UpTo(Lanes2, last, lastWord));
        Span<ulong> scratch = stackalloc ulong[MaxWords];
        var characters = program.Characters;
        Span<short> marked = stackalloc short[characters.Length]; // where each character's marks are, once looked up
        marked.Fill(-1);
        var at0 = Vector512.Create((ulong)(start >> 6));
        var first = Vector512.Create(1UL << (start & 63));
        var s0 = Vector512.Equals(Lanes0, at0) & first;
        var s1 = Vector512.Equals(Lanes1, at0) & first;
        var s2 = Vector512.Equals(Lanes2, at0) & first;
        var steps = program.Steps;
        for (var i = 0; i < steps.Length; i++)
        {
            var step = steps[i];
            spent += used;
            if (step == GlobProgram.Star)
            {
                // Lanes add on their own; the carries between lanes come from one addition over a bit per lane (lanes
                // that carry out, and lanes of all ones, which pass a carry on), and are added back.
                var sum0 = (s0 & c0) + c0;
                var carriesOut = Vector512.LessThan(sum0, c0).ExtractMostSignificantBits();
                var allOnes = Vector512.Equals(sum0, Vector512<ulong>.AllBitsSet).ExtractMostSignificantBits();
                if (vectors == 1)
                {
                    s0 |= (sum0 - Lanes(((carriesOut << 1) + allOnes) ^ allOnes)) ^ c0;
                    continue;
                }

                var sum1 = (s1 & c1) + c1;
                var sum2 = (s2 & c2) + c2;
                carriesOut |= (Vector512.LessThan(sum1, c1).ExtractMostSignificantBits() << 8)
                    | (Vector512.LessThan(sum2, c2).ExtractMostSignificantBits() << 16);
                allOnes |= (Vector512.Equals(sum1, Vector512<ulong>.AllBitsSet).ExtractMostSignificantBits() << 8)
                    | (Vector512.Equals(sum2, Vector512<ulong>.AllBitsSet).ExtractMostSignificantBits() << 16);
                var carriesIn = ((carriesOut << 1) + allOnes) ^ allOnes;
                if (carriesIn != 0)
                {
                    sum0 -= Lanes(carriesIn);
                    sum1 -= Lanes(carriesIn >> 8);
                    sum2 -= Lanes(carriesIn >> 16);
                }

                s0 |= sum0 ^ c0;
                s1 |= sum1 ^ c1;
                s2 |= sum2 ^ c2;
            }
            else if (step == GlobProgram.DoubleStar)
            {
                // The first position in the set, and every one from it to the end.
                var lane = BitOperations.TrailingZeroCount(NonEmpty(s0, s1, s2));
                var word = ((lane >> 3) switch { 0 => s0, 1 => s1, _ => s2 }).GetElement(lane & 7);
                var (at, from) = (Vector512.Create((ulong)lane), Vector512.Create(0UL - (word & (0UL - word))));
                s0 = From(Lanes0, at, from) & e0;
                s1 = From(Lanes1, at, from) & e1;
                s2 = From(Lanes2, at, from) & e2;
            }
            else
            {
                // Before a character is marked, a set of few positions compares the literal run from here at each
                // instead; otherwise the set moves through the character's marks.
                if (marked[step] < 0)
                {
                    marked[step] = (short)textMarks.Find(characters[step]);
                }

                if (marked[step] < 0)
                {
                    var words = NonEmpty(s0, s1, s2);
                    s0.CopyTo(scratch);
                    s1.CopyTo(scratch[8..]);
                    s2.CopyTo(scratch[16..]);
                    if (Count(scratch, words) <= FewPositions)
                    {
                        var run = program.LiteralRun(i);
                        s0 = MovedEach(text, run, scratch, words, Lanes0);
                        s1 = MovedEach(text, run, scratch, words, Lanes1);
                        s2 = MovedEach(text, run, scratch, words, Lanes2);
                        if ((s0 | s1 | s2) == Vector512<ulong>.Zero)
                        {
                            work = spent;
                            return false;
                        }

                        i += run.Length - 1;
                        continue;
                    }

                    marked[step] = (short)textMarks.Add(characters[step]);
                    spent += used;
                }

                var characterMarks = textMarks.Marks(marked[step]);
                var moving0 = s0 & Vector512.Create((ReadOnlySpan<ulong>)characterMarks);
                s0 = Shift(moving0, Vector512<ulong>.Zero);
                if (vectors > 1)
                {
                    var moving1 = s1 & Vector512.Create((ReadOnlySpan<ulong>)characterMarks[8..]);
                    var moving2 = s2 & Vector512.Create((ReadOnlySpan<ulong>)characterMarks[16..]);
                    s1 = Shift(moving1, moving0);
                    s2 = Shift(moving2, moving1);
                }

                if ((s0 | s1 | s2) == Vector512<ulong>.Zero)
                {
                    work = spent;
                    return false;
                }
            }
        }

        work = spent;
        var found = ((end >> 9) switch { 0 => s0, 1 => s1, _ => s2 }).GetElement((end >> 6) & 7);
        return ((found >> (end & 63)) & 1) != 0;
    }

    /// <summary>A bit for each word that holds a position.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong NonEmpty(Vector512<ulong> s0, Vector512<ulong> s1, Vector512<ulong> s2) =>
        (~Vector512.Equals(s0, Vector512<ulong>.Zero)).ExtractMostSignificantBits()
        | ((~Vector512.Equals(s1, Vector512<ulong>.Zero)).ExtractMostSignificantBits() << 8)
        | ((~Vector512.Equals(s2, Vector512<ulong>.Zero)).ExtractMostSignificantBits() << 16);

    /// <summary>
    /// The positions in the words of <paramref name="set"/> that <paramref name="words"/> names, counted only until
    /// there are more than <see cref="FewPositions"/>.
    /// </summary>
    private static int Count(ReadOnlySpan<ulong> set, ulong words)
    {
        var count = 0;
        for (; words != 0 && count <= FewPositions; words &= words - 1)
        {
            count += BitOperations.PopCount(set[BitOperations.TrailingZeroCount(words)]);
        }

        return count;
    }

    /// <summary>
    /// Literal characters for a set of few positions, comparing them at each: of the positions that move past them, those
    /// in the words <paramref name="lanes"/> numbers. <paramref name="words"/> says which words of <paramref name="set"/>
    /// hold positions.
    /// </summary>
    private static Vector512<ulong> MovedEach(ReadOnlySpan<char> text, ReadOnlySpan<char> literal, ReadOnlySpan<ulong> set, ulong words, Vector512<ulong> lanes)
    {
        var moved = Vector512<ulong>.Zero;
        for (; words != 0; words &= words - 1)
        {
            var k = BitOperations.TrailingZeroCount(words);
            for (var bits = set[k]; bits != 0; bits &= bits - 1)
            {
                var position = (k << 6) + BitOperations.TrailingZeroCount(bits);
                if (text[position..].StartsWith(literal))
                {
                    var next = position + literal.Length;
                    moved |= Vector512.Equals(lanes, Vector512.Create((ulong)(next >> 6))) & Vector512.Create(1UL << (next & 63));
                }
            }
        }

        return moved;
    }

    private static (Vector512<ulong>, Vector512<ulong>, Vector512<ulong>) Load(ReadOnlySpan<ulong> words) =>
        (Vector512.Create(words), Vector512.Create(words[8..]), Vector512.Create(words[16..]));

    /// <summary>Every bit one on, each lane's top bit into the next lane, <paramref name="below"/>'s last lane's into the first.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<ulong> Shift(Vector512<ulong> x, Vector512<ulong> below) =>
        (x << 1) | (Avx512F.AlignRight64(x, below, 7) >>> 63);

    /// <summary>All ones (minus one) in the lanes whose bit is set in the low byte of <paramref name="bits"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<ulong> Lanes(ulong bits) => Vector512.Equals(Vector512.Create(bits & 0xFF) & LaneBits, LaneBits);

    /// <summary>The lanes after <paramref name="at"/> all ones, lane <paramref name="at"/> <paramref name="from"/>, those before zero.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<ulong> From(Vector512<ulong> lanes, Vector512<ulong> at, Vector512<ulong> from) =>
        Vector512.GreaterThan(lanes, at) | (Vector512.Equals(lanes, at) & from);

    /// <summary>The positions up to the end: whole words before the last, the last up to its bit, none after.</summary>
    private static Vector512<ulong> UpTo(Vector512<ulong> lanes, ulong last, Vector512<ulong> lastWord) =>
        Vector512.LessThan(lanes, Vector512.Create(last)) | (Vector512.Equals(lanes, Vector512.Create(last)) & lastWord);
}

using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace AgentSecurity.Grants.Policy;

/// <summary>
/// A set of positions in a text (0 to its length, both included), one bit per position in 64-bit words, and the
/// steps of a wildcard pattern as operations on it. Each operation is one pass over the words, whatever the text
/// holds: that is what bounds a check, where following each candidate position separately costs as much as the
/// pattern and the text multiplied. <see cref="PositionVectors"/> holds the same set in vector registers.
/// </summary>
internal static class PositionSet
{
    /// <summary>Words for the positions 0 to <paramref name="length"/> (one more position than characters).</summary>
    public static int WordsFor(int length) => (length >> 6) + 1;

    public static bool Contains(ReadOnlySpan<ulong> set, int position) => ((set[position >> 6] >> (position & 63)) & 1) != 0;

    /// <summary>
    /// Runs <paramref name="steps"/> (as <see cref="GlobProgram"/> encodes them) over the positions of
    /// <paramref name="window"/>, from position 0, and says whether its end is reached. <paramref name="buffer"/> holds
    /// the set, the crossable marks, <paramref name="flags"/> words of flags, then the marks of each character, computed
    /// when first needed.
    /// </summary>
    public static bool Run(ReadOnlySpan<char> window, char barrier, ReadOnlySpan<ushort> steps, ReadOnlySpan<char> characters, Span<ulong> buffer, int flags, out int work)
    {
        var words = WordsFor(window.Length);
        var set = buffer[..words];
        var crossable = buffer.Slice(words, words);
        var marked = buffer.Slice(2 * words, flags);
        var marks = buffer[((2 * words) + flags)..];
        MarkCrossable(window, barrier, crossable);
        var spent = words;
        set[0] = 1;
        var low = 0;
        foreach (var step in steps)
        {
            spent += words - low;
            if (step == GlobProgram.Star)
            {
                Stretch(set, crossable, low);
            }
            else if (step == GlobProgram.DoubleStar)
            {
                StretchToEnd(set, ref low, window.Length);
            }
            else
            {
                // A character's marks are computed when first needed, from the lowest live word on: the set never
                // reaches below it again.
                var characterMarks = marks.Slice(step * words, words);
                if ((marked[step >> 6] & (1UL << step)) == 0)
                {
                    Mark(window, characters[step], characterMarks, low);
                    marked[step >> 6] |= 1UL << step;
                    spent += words - low;
                }

                if (!Advance(set, characterMarks, ref low))
                {
                    work = spent;
                    return false;
                }
            }
        }

        work = spent;
        return Contains(set, window.Length);
    }

    /// <summary>
    /// Marks, from word <paramref name="fromWord"/> on, the positions whose character is <paramref name="c"/>. Words
    /// before it are left alone: the sets it is combined with never reach back there.
    /// </summary>
    public static void Mark(ReadOnlySpan<char> text, char c, Span<ulong> marks, int fromWord)
    {
        var chars = MemoryMarshal.Cast<char, ushort>(text);
        var k = fromWord;
        if (Vector512.IsHardwareAccelerated)
        {
            var wanted = Vector512.Create((ushort)c);
            ref var first = ref MemoryMarshal.GetReference(chars);
            var whole = Math.Min(chars.Length >> 6, marks.Length);
            for (; k < whole; k++)
            {
                var offset = (nuint)(k << 6);
                marks[k] = Vector512.Equals(Vector512.LoadUnsafe(ref first, offset), wanted).ExtractMostSignificantBits()
                    | (Vector512.Equals(Vector512.LoadUnsafe(ref first, offset + 32), wanted).ExtractMostSignificantBits() << 32);
            }
        }

        for (; k < marks.Length; k++)
        {
            marks[k] = Equal(chars, k << 6, c);
        }
    }

    /// <summary>
    /// Marks the positions a <c>*</c> may pass: those holding a character that is neither <c>/</c> nor
    /// <paramref name="barrier"/> (a second character that no <c>*</c> may cross; <c>/</c> itself when there is none).
    /// </summary>
    public static void MarkCrossable(ReadOnlySpan<char> text, char barrier, Span<ulong> marks)
    {
        var chars = MemoryMarshal.Cast<char, ushort>(text);
        for (var k = 0; k < marks.Length; k++)
        {
            var start = k << 6;
            var barriers = Equal(chars, start, '/') | (barrier == '/' ? 0 : Equal(chars, start, barrier));
            var left = text.Length - start;
            var inText = left >= 64 ? ulong.MaxValue : left <= 0 ? 0 : (1UL << left) - 1;
            marks[k] = ~barriers & inText;
        }
    }

    /// <summary>
    /// A literal character: each position in the set whose character is marked moves one on; the others drop out.
    /// Returns false when none is left. <paramref name="low"/>, the first word that may be non-zero, only grows.
    /// </summary>
    public static bool Advance(Span<ulong> set, ReadOnlySpan<ulong> marks, ref int low)
    {
        ulong carry = 0;
        ulong any = 0;
        for (var k = low; k < set.Length; k++)
        {
            var moving = set[k] & marks[k];
            var moved = (moving << 1) | carry;
            carry = moving >> 63; // the last word's top bit is past the text, where nothing is marked
            set[k] = moved;
            any |= moved;
        }

        if (any == 0)
        {
            return false;
        }

        while (set[low] == 0)
        {
            low++;
        }

        return true;
    }

    /// <summary>
    /// A <c>*</c>: each position in the set also reaches every later one up to the next barrier, included, or the end.
    /// Computed for every segment at once by an addition: adding the crossable marks to the set's positions inside
    /// them carries each run of marks from its lowest set position to the run's end, and one past it.
    /// </summary>
    public static void Stretch(Span<ulong> set, ReadOnlySpan<ulong> crossable, int low)
    {
        ulong carry = 0;
        for (var k = low; k < set.Length; k++)
        {
            var run = crossable[k];
            var sum = (set[k] & run) + run;
            var overflow = sum < run ? 1UL : 0;
            sum += carry;
            carry = overflow | (sum < carry ? 1UL : 0);
            set[k] |= sum ^ run;
        }
    }

    /// <summary>A <c>**</c>: every position from the first one in the set to <paramref name="end"/> (the set is not empty).</summary>
    public static void StretchToEnd(Span<ulong> set, ref int low, int end)
    {
        while (set[low] == 0)
        {
            low++;
        }

        var last = end >> 6;
        var first = set[low] & (0UL - set[low]);
        set[low] |= 0UL - first;
        set[(low + 1)..(last + 1)].Fill(ulong.MaxValue);
        set[last] &= ulong.MaxValue >> (63 - (end & 63));
    }

    /// <summary>Bit i set when <c>chars[start + i]</c> is <paramref name="c"/>, for the (up to) 64 characters from <paramref name="start"/>.</summary>
    private static ulong Equal(ReadOnlySpan<ushort> chars, int start, char c)
    {
        var end = Math.Min(chars.Length, start + 64);
        var bits = 0UL;
        var i = start;
        if (Vector256.IsHardwareAccelerated)
        {
            var wanted = Vector256.Create((ushort)c);
            for (; i + 16 <= end; i += 16)
            {
                bits |= (ulong)Vector256.Equals(Vector256.Create(chars.Slice(i, 16)), wanted).ExtractMostSignificantBits() << (i - start);
            }
        }

        if (Vector128.IsHardwareAccelerated)
        {
            var wanted = Vector128.Create((ushort)c);
            for (; i + 8 <= end; i += 8)
            {
                bits |= (ulong)Vector128.Equals(Vector128.Create(chars.Slice(i, 8)), wanted).ExtractMostSignificantBits() << (i - start);
            }
        }

        for (; i < end; i++)
        {
            bits |= (chars[i] == c ? 1UL : 0) << (i - start);
        }

        return bits;
    }
}

using System.Buffers;

namespace AgentSecurity.Grants.Policy;

/// <summary>
/// A pattern with a wildcard before its end, compiled: the literal prefix and suffix, which anchor it at both ends
/// of the text and reject most texts at once, and between them one step per wildcard or character, run over the set
/// of positions the pattern so far can end at, a bit per position (<see cref="PositionSet"/>, or
/// <see cref="PositionVectors"/> in registers). A run costs at most (1 + steps + distinct characters) × (text length /
/// 64 + 1) word operations whatever the pattern and the text hold: for the largest pattern a grant allows against the
/// longest resource, under 9,000, where an automaton stepping one character at a time through every state costs
/// pattern × text, 260,000; and a check allocates nothing (<see cref="TextMarks"/> keeps its arrays per thread).
/// </summary>
internal sealed class GlobProgram
{
    /// <summary>A step for <c>*</c>; any step below <see cref="DoubleStar"/> is a literal, the index of its character.</summary>
    internal const ushort Star = ushort.MaxValue;

    internal const ushort DoubleStar = ushort.MaxValue - 1;

    // Positions of a 1024-character resource with a program of a few dozen distinct characters fit in 8 KB of stack;
    // anything larger (many distinct characters, or a text longer than a resource) borrows from the pool.
    private const int StackWords = 1024;

    // Up to 256 characters, a word-at-a-time pass is as quick as registers, and a typical check stays on it.
    private const int NarrowWords = 4;

    private readonly string _pattern;
    private readonly int _start;
    private readonly int _end;
    private readonly ushort[] _steps;
    private readonly char[] _characters;
    private readonly short[] _offsets;
    private readonly int _minimumLength;

    /// <param name="pattern">The pattern.</param>
    /// <param name="start">Where its first wildcard starts (the prefix ends).</param>
    /// <param name="end">Just past its last wildcard (the suffix starts).</param>
    public GlobProgram(string pattern, int start, int end)
    {
        (_pattern, _start, _end) = (pattern, start, end);
        Span<ushort> steps = stackalloc ushort[end - start]; // at most a step per character
        Span<short> offsets = stackalloc short[end - start];
        Span<char> characters = stackalloc char[end - start];
        Span<short> ascii = stackalloc short[128];
        ascii.Fill(-1);
        var (count, distinct, literals) = (0, 0, 0);
        for (var i = start; i < end; i++)
        {
            var c = pattern[i];
            if (c == '*')
            {
                var run = i;
                while (i + 1 < end && pattern[i + 1] == '*')
                {
                    i++; // *** and longer read as **
                }

                steps[count++] = i == run ? Star : DoubleStar;
                continue;
            }

            var index = c < 128 ? ascii[c] : characters[..distinct].IndexOf(c);
            if (index < 0)
            {
                index = distinct;
                characters[distinct++] = c;
                if (c < 128)
                {
                    ascii[c] = (short)index;
                }
            }

            offsets[count] = (short)i;
            steps[count++] = (ushort)index;
            literals++;
        }

        _steps = steps[..count].ToArray();
        _offsets = offsets[..count].ToArray();
        _characters = characters[..distinct].ToArray();
        _minimumLength = start + (pattern.Length - end) + literals;
    }

    /// <summary>
    /// The steps: the index of a literal's character in <see cref="Characters"/>, or <see cref="Star"/> or
    /// <see cref="DoubleStar"/>.
    /// </summary>
    public ReadOnlySpan<ushort> Steps => _steps;

    public ReadOnlySpan<char> Characters => _characters;

    private ReadOnlySpan<char> Prefix => _pattern.AsSpan(0, _start);

    private ReadOnlySpan<char> Suffix => _pattern.AsSpan(_end);

    /// <summary>The literal characters from step <paramref name="step"/> (a literal) to the next wildcard.</summary>
    public ReadOnlySpan<char> LiteralRun(int step)
    {
        var from = _offsets[step];
        var length = _pattern.AsSpan(from, _end - from).IndexOf('*');
        return _pattern.AsSpan(from, length);
    }

    /// <summary>
    /// Whether the pattern matches all of <paramref name="text"/>. <paramref name="barrier"/> is a character a
    /// <c>*</c> may not cross besides <c>/</c> (<c>/</c> when there is none); <paramref name="work"/> counts the word
    /// operations spent, which tests hold to the bound above.
    /// </summary>
    public bool Matches(string text, char barrier, out int work) => Matches(text, barrier, wide: true, out work);

    /// <summary>
    /// <see cref="Matches(string, char, out int)"/>, in vector registers (<see cref="PositionVectors"/>) only if
    /// <paramref name="wide"/>, the processor has them and the text is long enough to gain from them.
    /// </summary>
    internal bool Matches(string text, char barrier, bool wide, out int work)
    {
        work = 0;
        if (text.Length < _minimumLength || !text.AsSpan().StartsWith(Prefix) || !text.AsSpan().EndsWith(Suffix))
        {
            return false;
        }

        var end = text.Length - Suffix.Length;
        if (wide && PositionVectors.Supported && PositionSet.WordsFor(text.Length) is > NarrowWords and <= PositionVectors.MaxWords)
        {
            return PositionVectors.Run(text, _start, end, barrier, this, out work);
        }

        var window = text.AsSpan(_start, end - _start);
        var words = PositionSet.WordsFor(window.Length);
        var flags = (_characters.Length + 63) >> 6;
        var needed = (words * (2 + _characters.Length)) + flags;
        ulong[]? rented = null;
        var buffer = needed <= StackWords ? stackalloc ulong[needed] : (rented = ArrayPool<ulong>.Shared.Rent(needed)).AsSpan(0, needed);
        try
        {
            if (rented is not null)
            {
                buffer[..((2 * words) + flags)].Clear(); // the set and the flags; marks are written before they are read
            }

            return PositionSet.Run(window, barrier, _steps, _characters, buffer, flags, out work);
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<ulong>.Shared.Return(rented);
            }
        }
    }
}

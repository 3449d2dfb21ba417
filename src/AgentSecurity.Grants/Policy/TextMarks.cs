namespace AgentSecurity.Grants.Policy;

/// <summary>
/// One text's marks (<see cref="PositionSet.Mark"/>: the positions of a character) kept from one pattern to the next
/// on this thread. A scope list's patterns are matched one after another against the same resource, and marking a
/// character costs a pass over the whole resource: kept, each character of a resource is marked once per check, not
/// once per pattern, which bounds the marking of a whole list by the resource's length instead of the patterns'.
/// </summary>
/// <remarks>
/// Keyed by the text's reference (strings do not change) and the barrier. Holds at most a mark per distinct character
/// of one text, <see cref="PositionVectors.MaxWords"/> words each: about 200 KB for a 1024-character resource of 1024
/// distinct characters, grown only as far as texts need, and the last text itself.
/// </remarks>
internal sealed class TextMarks
{
    private const int Words = PositionVectors.MaxWords;
    private const int Slots = 4096; // a power of two, more than twice the distinct characters of a text that fits

    [ThreadStatic]
    private static TextMarks? s_current;

    private readonly ulong[] _crossable = new ulong[Words];
    private readonly char[] _slotCharacter = new char[Slots];
    private readonly short[] _slotIndex = new short[Slots];
    private readonly int[] _slotGeneration = new int[Slots];
    private ulong[] _marks = new ulong[16 * Words];
    private string? _text;
    private char _barrier;
    private int _generation;
    private int _count;

    public ReadOnlySpan<ulong> Crossable => _crossable;

    /// <summary>The marks of <paramref name="text"/> (at most <see cref="Words"/> words of positions) on this thread.</summary>
    public static TextMarks For(string text, char barrier)
    {
        var marks = s_current ??= new TextMarks();
        if (!ReferenceEquals(marks._text, text) || marks._barrier != barrier)
        {
            marks.Reset(text, barrier);
        }

        return marks;
    }

    /// <summary>Where the positions of <paramref name="c"/> are (<see cref="Marks"/>) if marked already, else -1.</summary>
    public int Find(char c)
    {
        var slot = Slot(c);
        return _slotGeneration[slot] == _generation ? _slotIndex[slot] : -1;
    }

    /// <summary>Marks the positions of <paramref name="c"/> (not marked yet), and says where they are.</summary>
    public int Add(char c)
    {
        if ((_count + 1) * Words > _marks.Length)
        {
            Array.Resize(ref _marks, _marks.Length * 2);
        }

        var index = _count++;
        var marks = _marks.AsSpan(index * Words, Words);
        var used = PositionSet.WordsFor(_text!.Length);
        PositionSet.Mark(_text, c, marks[..used], 0);
        marks[used..].Clear();
        var slot = Slot(c);
        (_slotCharacter[slot], _slotIndex[slot], _slotGeneration[slot]) = (c, (short)index, _generation);
        return index;
    }

    public ReadOnlySpan<ulong> Marks(int index) => _marks.AsSpan(index * Words, Words);

    /// <summary>The slot that holds <paramref name="c"/>, or the free one where it goes.</summary>
    private int Slot(char c)
    {
        var slot = (c * 40503) & (Slots - 1);
        while (_slotGeneration[slot] == _generation && _slotCharacter[slot] != c)
        {
            slot = (slot + 1) & (Slots - 1);
        }

        return slot;
    }

    private void Reset(string text, char barrier)
    {
        (_text, _barrier, _count) = (text, barrier, 0);
        if (++_generation == int.MaxValue)
        {
            Array.Clear(_slotGeneration);
            _generation = 1;
        }

        PositionSet.MarkCrossable(text, barrier, _crossable);
    }
}

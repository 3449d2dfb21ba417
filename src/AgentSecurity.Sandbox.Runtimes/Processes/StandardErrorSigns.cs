namespace AgentSecurity.Sandbox.Processes;

/// <summary>
/// How programs say that a limit stopped them, for processes that end before a sample sees the limit reached; and
/// whether a program said it ran out of memory anywhere in its standard error, not only in the tail kept for the
/// message. A runtime that dies at its memory limit can print why and then a native stack longer than the tail (V8
/// does, ending by SIGTRAP). Only a death by such a signal is taken at that word (<see cref="OutOfMemoryBefore"/>): the
/// text of a program that exits by itself can be anyone's (an echoed request, a caught error), and a limit is audited
/// as a sandbox violation. Observed by the one loop that drains the stream; read once the stream has ended.
/// </summary>
internal sealed class StandardErrorSigns
{
    internal static readonly string[] OutOfMemorySigns = ["Cannot allocate memory", "Out of memory", "out of memory", "MemoryError", "bad_alloc", "Array buffer allocation failed"];
    internal static readonly string[] ProcessLimitSigns = ["Cannot fork", "fork: Resource temporarily unavailable", "fork: retry", "can't fork"];

    // 128 + SIGTRAP, SIGABRT, SIGSEGV: how runtimes die when an allocation fails (V8 traps, C++ aborts on bad_alloc). Not
    // any status above 128: exit(-1) is 255, and a program can exit with any code it likes.
    private static readonly int[] FatalSignals = [128 + 5, 128 + 6, 128 + 11];

    // A sign split between two reads is found in the last read's end joined to the next read.
    private static readonly int Overlap = OutOfMemorySigns.Max(s => s.Length) - 1;

    private string _carry = string.Empty;
    private volatile bool _outOfMemory;

    /// <summary>Whether the stream said, anywhere, that the program ran out of memory.</summary>
    public bool OutOfMemory => _outOfMemory;

    /// <summary>
    /// Whether a program that ended with <paramref name="status"/> ran out of memory by what it wrote: anywhere in the
    /// stream when a runtime's fatal signal ended it, else in <paramref name="tail"/> (its last words) only.
    /// </summary>
    public bool OutOfMemoryBefore(int status, string tail) =>
        FatalSignals.Contains(status) ? OutOfMemory : Shows(tail, OutOfMemorySigns);


    public static bool Shows(string text, string[] signs)
    {
        foreach (var sign in signs)
        {
            if (text.Contains(sign, StringComparison.Ordinal))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Looks for the signs in the next piece of the stream; once one is seen, nothing more is looked at.</summary>
    public void Observe(ReadOnlySpan<char> chunk)
    {
        if (_outOfMemory || chunk.IsEmpty)
        {
            return;
        }

        var text = string.Concat(_carry, chunk);
        _outOfMemory = Shows(text, OutOfMemorySigns);
        _carry = text.Length > Overlap ? text[^Overlap..] : text;
    }
}

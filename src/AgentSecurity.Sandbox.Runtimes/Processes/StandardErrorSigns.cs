namespace AgentSecurity.Sandbox.Processes;

/// <summary>
/// Which limits a sandboxed program said stopped it, anywhere in its standard error rather than only in the tail kept
/// for the message: a runtime that dies at its memory limit can print why and then a native stack longer than the tail
/// (V8 does, ending by SIGTRAP), and the tail alone would call that death <c>execution_failed</c>. Observed by the one
/// loop that drains the stream; read once the stream has ended.
/// </summary>
internal sealed class StandardErrorSigns
{
    // How programs say that a limit stopped them, for processes that end before a sample sees the limit reached.
    internal static readonly string[] OutOfMemorySigns = ["Cannot allocate memory", "Out of memory", "out of memory", "MemoryError", "bad_alloc", "Array buffer allocation failed"];
    internal static readonly string[] ProcessLimitSigns = ["Cannot fork", "fork: Resource temporarily unavailable", "fork: retry", "can't fork"];
    internal static readonly string[] FileTooLargeSigns = ["File too large"];

    // A sign split between two reads is found in the last read's end joined to the next read.
    private static readonly int Overlap = OutOfMemorySigns.Concat(ProcessLimitSigns).Concat(FileTooLargeSigns).Max(s => s.Length) - 1;

    private string _carry = string.Empty;
    private volatile bool _outOfMemory;
    private volatile bool _processLimit;
    private volatile bool _fileTooLarge;

    public bool OutOfMemory => _outOfMemory;

    public bool ProcessLimit => _processLimit;

    public bool FileTooLarge => _fileTooLarge;

    /// <summary>Whether a piece of text shows that the program ran out of memory.</summary>
    public static bool ShowsOutOfMemory(string text) => Shows(text, OutOfMemorySigns);

    /// <summary>Looks for the signs in the next piece of the stream.</summary>
    public void Observe(ReadOnlySpan<char> chunk)
    {
        if (chunk.IsEmpty)
        {
            return;
        }

        var text = string.Concat(_carry, chunk);
        _outOfMemory = _outOfMemory || Shows(text, OutOfMemorySigns);
        _processLimit = _processLimit || Shows(text, ProcessLimitSigns);
        _fileTooLarge = _fileTooLarge || Shows(text, FileTooLargeSigns);
        _carry = text.Length > Overlap ? text[^Overlap..] : text;
    }

    private static bool Shows(string text, string[] signs)
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
}

using System.Text;

namespace AgentSecurity.Sandbox;

/// <summary>
/// Output of agent code, kept up to a byte budget (UTF-8). Whatever arrives beyond it is dropped and marks the buffer
/// <see cref="Overflowed"/>, which ends the execution with <c>output_limit</c>. Thread-safe: a process's standard
/// output and error are read on two threads.
/// </summary>
public sealed class OutputBuffer(int limitBytes)
{
    private readonly StringBuilder _text = new();
    private readonly Lock _lock = new();
    private int _bytes;

    public bool Overflowed { get; private set; }

    /// <summary>Bytes that may still be appended.</summary>
    public int Remaining
    {
        get
        {
            lock (_lock)
            {
                return limitBytes - _bytes;
            }
        }
    }

    /// <summary>Appends as much of <paramref name="text"/> as fits; false once the budget is exceeded.</summary>
    public bool Append(string text)
    {
        lock (_lock)
        {
            if (Overflowed)
            {
                return false;
            }

            var bytes = Encoding.UTF8.GetByteCount(text);
            if (_bytes + bytes <= limitBytes)
            {
                _text.Append(text);
                _bytes += bytes;
                return true;
            }

            // Keep whole characters up to the budget.
            foreach (var rune in text.EnumerateRunes())
            {
                if (_bytes + rune.Utf8SequenceLength > limitBytes)
                {
                    break;
                }

                _text.Append(rune.ToString());
                _bytes += rune.Utf8SequenceLength;
            }

            Overflowed = true;
            return false;
        }
    }

    public override string ToString()
    {
        lock (_lock)
        {
            return _text.ToString();
        }
    }
}

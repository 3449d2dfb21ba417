namespace AgentSecurity.Mcp.Upstreams;

/// <summary>
/// A stdio upstream's standard output, bounded by line: the stdio transport carries one JSON-RPC message per line.
/// </summary>
internal sealed class BoundedLineStream(Stream inner, long maxLineBytes, Action onOverflow) : BoundedReadStream(inner, maxLineBytes, onOverflow)
{
    private long _sinceNewline;

    public long MaxLineBytes => MaxMessageBytes;

    protected override string Message => "a line";

    protected override bool Exceeds(ReadOnlySpan<byte> read)
    {
        var previous = _sinceNewline;
        var newline = read.LastIndexOf((byte)'\n');
        // Every line completed in this read is bounded too, not only the one still open at its end.
        var tooLong = newline >= 0 && LongestLine(read[..newline], previous) > MaxMessageBytes;
        _sinceNewline = newline < 0 ? previous + read.Length : read.Length - newline - 1;
        return tooLong || _sinceNewline > MaxMessageBytes;
    }

    /// <summary>The longest line among complete lines, the first of which continues <paramref name="carried"/> bytes of the previous read.</summary>
    private static long LongestLine(ReadOnlySpan<byte> complete, long carried)
    {
        long longest = 0;
        while (true)
        {
            var newline = complete.IndexOf((byte)'\n');
            longest = Math.Max(longest, (newline < 0 ? complete.Length : newline) + carried);
            carried = 0;
            if (newline < 0)
            {
                return longest;
            }

            complete = complete[(newline + 1)..];
        }
    }
}

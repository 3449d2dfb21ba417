namespace AgentSecurity.Sandbox.Processes;

/// <summary>
/// A server's standard output as its reader gets it: reads pass through until one line grows past the cap, and then
/// the stream calls <c>overflowed</c> (which kills the server) and ends, without handing on any byte past the cap.
/// Whoever reads lines (the MCP SDK holds a whole JSON-RPC line in memory) thus never holds more than the cap of one.
/// </summary>
internal sealed class LineCappedStream(Stream inner, int maxLineBytes, Action overflowed) : Stream
{
    private long _lineBytes;
    private bool _ended;

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length => throw new NotSupportedException();

    public override long Position
    {
        get => throw new NotSupportedException();
        set => throw new NotSupportedException();
    }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer) => _ended ? 0 : Pass(buffer[..inner.Read(buffer)]);

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (_ended)
        {
            return 0;
        }

        var read = await inner.ReadAsync(buffer, cancellationToken);
        return Pass(buffer.Span[..read]);
    }

    /// <summary>How many of the bytes just read go on: all, unless a line passes the cap in them (then none, and the end).</summary>
    private int Pass(Span<byte> read)
    {
        var newline = read.LastIndexOf((byte)'\n');
        var bytes = newline < 0 ? _lineBytes + read.Length : read.Length - newline - 1;
        if (newline >= 0)
        {
            // Every line that ended in these bytes must have fit too: only the first can be longer than this read.
            var first = read.IndexOf((byte)'\n');
            if (_lineBytes + first > maxLineBytes || Longest(read[(first + 1)..(newline + 1)]) > maxLineBytes)
            {
                bytes = long.MaxValue;
            }
        }

        if (bytes > maxLineBytes)
        {
            _ended = true;
            overflowed();
            return 0;
        }

        _lineBytes = bytes;
        return read.Length;
    }

    /// <summary>The longest line (without its newline) of bytes that end with a newline.</summary>
    private static int Longest(ReadOnlySpan<byte> lines)
    {
        var longest = 0;
        while (lines.IndexOf((byte)'\n') is var end and >= 0)
        {
            longest = Math.Max(longest, end);
            lines = lines[(end + 1)..];
        }

        return longest;
    }

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            inner.Dispose();
        }

        base.Dispose(disposing);
    }
}

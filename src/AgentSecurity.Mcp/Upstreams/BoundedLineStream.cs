namespace AgentSecurity.Mcp.Upstreams;

/// <summary>
/// A read-only view of an upstream's standard output that refuses lines longer than a bound. The SDK reads whole lines
/// with no limit, so an upstream that writes one endless line would exhaust the gateway's memory; here the read fails
/// instead (an <see cref="IOException"/>) and <see cref="Overflowed"/> tells why, so the gateway stops that upstream
/// and answers <c>output_limit</c>.
/// </summary>
internal sealed class BoundedLineStream(Stream inner, long maxLineBytes, Action onOverflow) : Stream
{
    private long _sinceNewline;
    private int _overflowed;

    /// <summary>Whether a line went over the bound (the stream fails from then on).</summary>
    public bool Overflowed => Volatile.Read(ref _overflowed) == 1;

    public long MaxLineBytes => maxLineBytes;

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

    public override int Read(Span<byte> buffer)
    {
        ThrowIfOverflowed();
        return Count(buffer[..inner.Read(buffer)]);
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        ThrowIfOverflowed();
        var read = await inner.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
        return Count(buffer.Span[..read]);
    }

    private int Count(ReadOnlySpan<byte> read)
    {
        var previous = _sinceNewline;
        var newline = read.LastIndexOf((byte)'\n');
        // Every line completed in this read is bounded too, not only the one still open at its end.
        var tooLong = newline >= 0 && LongestLine(read[..newline], previous) > maxLineBytes;
        _sinceNewline = newline < 0 ? previous + read.Length : read.Length - newline - 1;
        if (tooLong || _sinceNewline > maxLineBytes)
        {
            Interlocked.Exchange(ref _overflowed, 1);
            onOverflow();
            ThrowIfOverflowed();
        }

        return read.Length;
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

    private void ThrowIfOverflowed()
    {
        if (Overflowed)
        {
            throw new IOException($"the upstream wrote a line over {maxLineBytes} bytes");
        }
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

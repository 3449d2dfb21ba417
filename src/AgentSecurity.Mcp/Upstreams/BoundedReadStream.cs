namespace AgentSecurity.Mcp.Upstreams;

/// <summary>
/// A read-only view of what an upstream sends that fails once one of its messages goes over a bound. The SDK reads a
/// message whole with no limit of its own, so an upstream that sends an endless one would exhaust the gateway's memory;
/// here the read fails instead (an <see cref="IOException"/>) and <see cref="Overflowed"/> tells why, so the gateway
/// ends that upstream's session and answers <c>output_limit</c>. Subclasses say where a message ends.
/// </summary>
internal abstract class BoundedReadStream(Stream inner, long maxMessageBytes, Action onOverflow) : Stream
{
    private int _overflowed;

    /// <summary>Whether a message went over the bound (the stream fails from then on).</summary>
    public bool Overflowed => Volatile.Read(ref _overflowed) == 1;

    public long MaxMessageBytes => maxMessageBytes;

    /// <summary>What the failure says went over the bound, e.g. "a line".</summary>
    protected abstract string Message { get; }

    /// <summary>Counts <paramref name="read"/> into the message in progress; true when a message is now over the bound.</summary>
    protected abstract bool Exceeds(ReadOnlySpan<byte> read);

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
        if (Exceeds(read))
        {
            if (Interlocked.Exchange(ref _overflowed, 1) == 0)
            {
                onOverflow();
            }

            ThrowIfOverflowed();
        }

        return read.Length;
    }

    private void ThrowIfOverflowed()
    {
        if (Overflowed)
        {
            throw new IOException($"the upstream sent {Message} over {maxMessageBytes} bytes");
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

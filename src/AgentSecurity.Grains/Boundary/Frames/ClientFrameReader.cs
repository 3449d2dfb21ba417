using System.Buffers;
using System.Buffers.Binary;
using System.IO.Pipelines;

namespace AgentSecurity.Grains.Boundary.Frames;

/// <summary>
/// What the gateway reads from a client: the client's bytes, less every frame <see cref="ClientFrameRules"/> refuses.
/// It reads the preamble (which client this is), then judges each frame once its header is in, and shows the gateway
/// only judged bytes: frames allowed (their bodies as they arrive), never a refused one. An answer to nothing asked is
/// skipped once it is the next thing to read; a frame no Orleans client writes (another's name, a forged hash, a
/// silo's flag) ends the connection, as do bytes that are not frames (a length out of bounds, a header that does not
/// parse), as Orleans' own reader would.
/// </summary>
internal sealed class ClientFrameReader(PipeReader inner, GatedConnection connection) : PipeReader
{
    // Offsets in the client's byte stream: how far the gateway consumed, how far bytes are judged allowed (may lie
    // beyond what arrived: the rest of an allowed frame's body), and the end of a refused frame being skipped.
    private long _consumed;
    private long _allowedTo;
    private long _dropTo;

    // A refused frame found behind allowed ones (at _allowedTo): skipped when the gateway has read up to it.
    private long _refusedLength = -1;
    private string? _refusedReason;
    private bool _preambleRead;

    private ReadOnlySequence<byte> _buffer;
    private long _shownTo;

    public override async ValueTask<ReadResult> ReadAsync(CancellationToken cancellationToken = default)
    {
        while (true)
        {
            var result = await inner.ReadAsync(cancellationToken).ConfigureAwait(false);
            if (TryShow(result, out var shown))
            {
                return shown;
            }
        }
    }

    public override bool TryRead(out ReadResult result)
    {
        // Once: the inner reader would hand a skipped frame's successor back at once, yet its header may still be arriving.
        if (inner.TryRead(out var read) && TryShow(read, out result))
        {
            return true;
        }

        result = default;
        return false;
    }

    public override void AdvanceTo(SequencePosition consumed) => AdvanceTo(consumed, consumed);

    public override void AdvanceTo(SequencePosition consumed, SequencePosition examined)
    {
        var consumedLength = _buffer.Slice(0, consumed).Length;
        // The gateway waits for more when it has looked at all it was shown. Then so does the inner reader, unless a refused
        // frame is next: it is skipped at the next read, and what follows it may be shown without waiting.
        var examinedAll = _buffer.Slice(0, examined).Length >= _shownTo && _refusedLength < 0;
        inner.AdvanceTo(consumed, examinedAll ? _buffer.End : examined);
        _consumed += consumedLength;
        _buffer = default;
    }

    public override void CancelPendingRead() => inner.CancelPendingRead();

    public override void Complete(Exception? exception = null) => inner.Complete(exception);

    public override ValueTask CompleteAsync(Exception? exception = null) => inner.CompleteAsync(exception);

    private bool TryShow(ReadResult read, out ReadResult shown)
    {
        var buffer = read.Buffer;
        Judge(buffer);
        var from = Math.Min(buffer.Length, Math.Max(_dropTo - _consumed, 0));
        var to = Math.Max(from, Math.Min(buffer.Length, _allowedTo - _consumed));
        if (from == to && !read.IsCompleted && !read.IsCanceled)
        {
            // Nothing to show yet (a header still arriving, a refused frame skipped): drop what is refused, wait for more.
            inner.AdvanceTo(buffer.GetPosition(from), buffer.End);
            _consumed += from;
            shown = default;
            return false;
        }

        _buffer = buffer;
        _shownTo = to;
        // The client's end is the gateway's only once nothing is left to show: not while a refused frame is still ahead.
        shown = new ReadResult(buffer.Slice(from, to - from), read.IsCanceled, read.IsCompleted && _refusedLength < 0);
        return true;
    }

    /// <summary>Judges the frames that arrived whole enough, each once.</summary>
    private void Judge(ReadOnlySequence<byte> buffer)
    {
        while (true)
        {
            var front = Math.Max(_dropTo, _consumed);
            if (_refusedLength >= 0)
            {
                if (_allowedTo != front)
                {
                    return;
                }

                if (FrameRefusals.EndsTheConnection(_refusedReason!))
                {
                    // Once the gateway has read every frame before it: those were allowed.
                    throw new InvalidDataException($"client {connection.Client} sent a message refused as {_refusedReason}");
                }

                Drop(_refusedLength);
                continue;
            }

            var at = _allowedTo - _consumed;
            if (at >= buffer.Length)
            {
                return;
            }

            var next = buffer.Slice(at);
            var (length, refused) = _preambleRead ? JudgeFrame(next) : ReadPreamble(next);
            if (length < 0)
            {
                return;
            }

            if (refused is null)
            {
                _allowedTo += length;
            }
            else
            {
                _refusedLength = length;
                _refusedReason = refused;
            }
        }
    }

    private void Drop(long length)
    {
        _dropTo = _allowedTo + length;
        _allowedTo = _dropTo;
        _refusedLength = -1;
    }

    private (long Length, string? Refused) ReadPreamble(ReadOnlySequence<byte> next)
    {
        if (next.Length < sizeof(int))
        {
            return (-1, null);
        }

        var length = ReadInt32(next);
        if (length <= 0 || length > ClientPreambles.MaxLength)
        {
            throw new InvalidDataException($"a client's preamble of {length} bytes");
        }

        if (next.Length < sizeof(int) + length)
        {
            return (-1, null);
        }

        connection.Client = connection.Preambles.Read(next.Slice(sizeof(int), length));
        _preambleRead = true;
        return (sizeof(int) + length, null);
    }

    private (long Length, string? Refused) JudgeFrame(ReadOnlySequence<byte> next)
    {
        if (next.Length < FrameHeader.PrefixLength)
        {
            return (-1, null);
        }

        Span<byte> prefix = stackalloc byte[FrameHeader.PrefixLength];
        next.Slice(0, FrameHeader.PrefixLength).CopyTo(prefix);
        var (headerLength, bodyLength) = FrameHeader.ReadPrefix(prefix);
        if (headerLength <= 0 || headerLength > connection.MaxHeaderLength || bodyLength < 0 || bodyLength > connection.MaxBodyLength)
        {
            throw new InvalidDataException($"a client's frame of {headerLength} header and {bodyLength} body bytes");
        }

        if (next.Length < FrameHeader.PrefixLength + headerLength)
        {
            return (-1, null);
        }

        var rented = headerLength > 512 ? ArrayPool<byte>.Shared.Rent(headerLength) : null;
        try
        {
            var header = rented is null ? stackalloc byte[headerLength] : rented.AsSpan(0, headerLength);
            next.Slice(FrameHeader.PrefixLength, headerLength).CopyTo(header);
            if (!FrameHeader.TryRead(header, out var parsed))
            {
                throw new InvalidDataException("a client's frame header does not parse");
            }

            var refused = ClientFrameRules.Judge(parsed, connection.Client!, connection.Awaited, connection.Silos);
            if (refused is not null)
            {
                connection.Refused(refused, parsed.Direction, parsed.Id);
            }

            return ((long)FrameHeader.PrefixLength + headerLength + bodyLength, refused);
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<byte>.Shared.Return(rented);
            }
        }
    }

    private static int ReadInt32(ReadOnlySequence<byte> input)
    {
        Span<byte> bytes = stackalloc byte[sizeof(int)];
        input.Slice(0, sizeof(int)).CopyTo(bytes);
        return BinaryPrimitives.ReadInt32LittleEndian(bytes);
    }
}

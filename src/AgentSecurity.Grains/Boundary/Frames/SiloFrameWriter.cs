using System.Buffers.Binary;
using System.IO.Pipelines;

namespace AgentSecurity.Grains.Boundary.Frames;

/// <summary>
/// What the gateway writes to a client, unchanged, while noting each request in it (a grain calling the client's
/// observer, a stream delivering to it): the responses the client may send back (<see cref="AwaitedAnswers"/>). Bytes
/// are looked at as the gateway commits them (<see cref="Advance"/>), before they can be flushed.
/// </summary>
internal sealed class SiloFrameWriter(PipeWriter inner, AwaitedAnswers awaited) : PipeWriter
{
    private readonly SiloFrameScanner _scanner = new(awaited);
    private Memory<byte> _memory;

    public override Memory<byte> GetMemory(int sizeHint = 0) => _memory = inner.GetMemory(sizeHint);

    public override Span<byte> GetSpan(int sizeHint = 0) => GetMemory(sizeHint).Span;

    public override void Advance(int bytes)
    {
        _scanner.Scan(_memory.Span[..bytes]);
        _memory = default;
        inner.Advance(bytes);
    }

    public override ValueTask<FlushResult> FlushAsync(CancellationToken cancellationToken = default) => inner.FlushAsync(cancellationToken);

    public override void CancelPendingFlush() => inner.CancelPendingFlush();

    public override void Complete(Exception? exception = null) => inner.Complete(exception);

    public override ValueTask CompleteAsync(Exception? exception = null) => inner.CompleteAsync(exception);

    public override bool CanGetUnflushedBytes => inner.CanGetUnflushedBytes;

    public override long UnflushedBytes => inner.UnflushedBytes;
}

/// <summary>
/// Follows the frames a silo writes to a client, in pieces as they are committed: the preamble, then each frame's
/// prefix and the first bytes of its header (its direction); for a request, the whole header (its id and sender).
/// </summary>
internal sealed class SiloFrameScanner(AwaitedAnswers awaited)
{
    private const int DirectionBytes = FrameHeader.PrefixLength + sizeof(uint);

    private byte[] _pending = new byte[256];
    private int _pendingCount;
    private int _need = sizeof(int);
    private long _skip;
    private int _bodyLength;
    private Stage _stage = Stage.Preamble;

    public void Scan(ReadOnlySpan<byte> data)
    {
        while (!data.IsEmpty)
        {
            if (_skip > 0)
            {
                var skipped = (int)Math.Min(_skip, data.Length);
                _skip -= skipped;
                data = data[skipped..];
                continue;
            }

            var taken = Math.Min(_need - _pendingCount, data.Length);
            data[..taken].CopyTo(_pending.AsSpan(_pendingCount));
            _pendingCount += taken;
            data = data[taken..];
            if (_pendingCount == _need)
            {
                Next(_pending.AsSpan(0, _pendingCount));
            }
        }
    }

    private void Next(ReadOnlySpan<byte> pending)
    {
        switch (_stage)
        {
            case Stage.Preamble:
                _skip = BinaryPrimitives.ReadInt32LittleEndian(pending);
                Expect(Stage.FrameStart, DirectionBytes);
                break;
            case Stage.FrameStart:
                var (headerLength, bodyLength) = FrameHeader.ReadPrefix(pending);
                if (FrameHeader.ReadDirection(pending[FrameHeader.PrefixLength..]) == FrameDirection.Request)
                {
                    _bodyLength = bodyLength;
                    Expect(Stage.RequestHeader, FrameHeader.PrefixLength + headerLength, keepPending: true);
                }
                else
                {
                    _skip = (long)headerLength - sizeof(uint) + bodyLength;
                    Expect(Stage.FrameStart, DirectionBytes);
                }

                break;
            case Stage.RequestHeader:
                if (FrameHeader.TryRead(pending[FrameHeader.PrefixLength..], out var header))
                {
                    awaited.Add(header.Id, header.SendingType, header.SendingKey);
                }

                _skip = _bodyLength;
                Expect(Stage.FrameStart, DirectionBytes);
                break;
        }
    }

    private void Expect(Stage stage, int bytes, bool keepPending = false)
    {
        _stage = stage;
        _need = bytes;
        _pendingCount = keepPending ? _pendingCount : 0;
        if (!keepPending && _pending.Length > 4096)
        {
            _pending = new byte[256]; // after a large header: not held for the connection's life
        }

        if (_pending.Length < bytes)
        {
            Array.Resize(ref _pending, bytes);
        }
    }

    private enum Stage
    {
        Preamble,
        FrameStart,
        RequestHeader,
    }
}

namespace AgentSecurity.Mcp.Upstreams;

/// <summary>
/// An HTTP upstream's response body, bounded by message: a JSON answer by its whole size, a server-sent event stream by
/// each event's size. Events are bounded rather than lines because the SDK's parser keeps all the data lines of an
/// event until the blank line that ends it, so many short lines would add up to one unbounded message.
/// </summary>
internal sealed class BoundedResponseStream(Stream inner, long maxMessageBytes, bool eventStream, Action onOverflow) : BoundedReadStream(inner, maxMessageBytes, onOverflow)
{
    private long _messageBytes;
    private bool _lineEmpty = true;
    private bool _afterCarriageReturn;

    protected override string Message => eventStream ? "an event" : "an answer";

    protected override bool Exceeds(ReadOnlySpan<byte> read)
    {
        if (!eventStream)
        {
            _messageBytes += read.Length;
            return _messageBytes > MaxMessageBytes;
        }

        // Lines end in CR, LF or CRLF; an empty line ends the event.
        foreach (var b in read)
        {
            if (b == '\n' && _afterCarriageReturn)
            {
                _afterCarriageReturn = false;
                continue;
            }

            _afterCarriageReturn = b == '\r';
            if (b is (byte)'\r' or (byte)'\n')
            {
                if (_lineEmpty)
                {
                    _messageBytes = 0;
                }

                _lineEmpty = true;
                continue;
            }

            _lineEmpty = false;
            if (++_messageBytes > MaxMessageBytes)
            {
                return true;
            }
        }

        return false;
    }
}

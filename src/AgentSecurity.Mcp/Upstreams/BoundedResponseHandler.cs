namespace AgentSecurity.Mcp.Upstreams;

/// <summary>
/// Wraps each response body of an HTTP upstream in a <see cref="BoundedResponseStream"/> before anything reads it, and
/// refuses at once a JSON answer whose declared length is over the bound.
/// </summary>
internal sealed class BoundedResponseHandler(long maxMessageBytes, Action onOverflow) : DelegatingHandler
{
    private int _overflowed;

    public bool Overflowed => Volatile.Read(ref _overflowed) == 1;

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var response = await base.SendAsync(request, cancellationToken).ConfigureAwait(false);
        var eventStream = response.Content.Headers.ContentType?.MediaType == "text/event-stream";
        if (!eventStream && response.Content.Headers.ContentLength > maxMessageBytes)
        {
            response.Dispose();
            Overflow();
            throw new IOException($"the upstream sent an answer over {maxMessageBytes} bytes");
        }

        var body = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
        var bounded = new StreamContent(new BoundedResponseStream(body, maxMessageBytes, eventStream, Overflow));
        foreach (var header in response.Content.Headers)
        {
            bounded.Headers.TryAddWithoutValidation(header.Key, header.Value);
        }

        response.Content = bounded;
        return response;
    }

    private void Overflow()
    {
        if (Interlocked.Exchange(ref _overflowed, 1) == 0)
        {
            onOverflow();
        }
    }
}

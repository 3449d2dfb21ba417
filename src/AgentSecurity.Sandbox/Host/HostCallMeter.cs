using AgentSecurity.Grants;

namespace AgentSecurity.Sandbox.Host;

/// <summary>
/// Counts one execution's host calls and the kernel's denials of them, and refuses calls beyond the execution's
/// budget (<c>quota_exceeded</c>, without asking the kernel: a loop of calls must not turn into a loop of checks).
/// Thread-safe: a native process may call from several of its processes at once.
/// </summary>
public sealed class HostCallMeter(IHostApi inner, int budget) : IHostApi
{
    private long _calls;
    private long _denied;

    public long Calls => Interlocked.Read(ref _calls);

    public long Denied => Interlocked.Read(ref _denied);

    public async ValueTask<HostReply> CallAsync(HostCall call)
    {
        if (Interlocked.Increment(ref _calls) > budget)
        {
            Interlocked.Decrement(ref _calls);
            return HostReply.Fail(ReasonCodes.QuotaExceeded, $"an execution makes at most {budget} host calls");
        }

        if (TooLarge(call.Operation, HostCall.MaxOperationBytes) || TooLarge(call.Argument, HostCall.MaxArgumentBytes) || TooLarge(call.Second, HostCall.MaxArgumentBytes))
        {
            return HostReply.Fail(ReasonCodes.InvalidRequest, $"a host call's operation is at most {HostCall.MaxOperationBytes} bytes and each argument at most {HostCall.MaxArgumentBytes}");
        }

        var reply = await inner.CallAsync(call);
        if (reply.Denied)
        {
            Interlocked.Increment(ref _denied);
        }

        return reply;
    }

    // A UTF-8 byte is at least a third of a UTF-16 unit, so most strings are judged by their length alone.
    private static bool TooLarge(string? text, int maxBytes) =>
        text is not null && (text.Length > maxBytes || (text.Length > maxBytes / 3 && System.Text.Encoding.UTF8.GetByteCount(text) > maxBytes));
}

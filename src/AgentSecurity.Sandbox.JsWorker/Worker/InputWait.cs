using System.Runtime.InteropServices;

namespace AgentSecurity.Sandbox.Worker;

/// <summary>
/// Waits, with a timeout, for a descriptor to have something to read (or to be closed): what lets the worker's one
/// thread run keep-warm jobs between waits for its real job, without a second thread whose hand-over would cost the
/// job a wake-up.
/// </summary>
internal static partial class InputWait
{
    private const short PollIn = 0x001;
    private const int Interrupted = 4; // EINTR

    /// <summary>True when <paramref name="fd"/> is readable, at its end or in error; false when the time ran out.</summary>
    public static bool Readable(int fd, int timeoutMillis)
    {
        var entry = new PollEntry { Fd = fd, Events = PollIn };
        while (true)
        {
            var ready = Poll(ref entry, 1, timeoutMillis);
            if (ready >= 0)
            {
                return ready > 0;
            }

            // Fail towards reading: a poll that fails for another reason leaves the blocking read to find out.
            if (Marshal.GetLastPInvokeError() != Interrupted)
            {
                return true;
            }
        }
    }

    [LibraryImport("libc", EntryPoint = "poll", SetLastError = true)]
    private static partial int Poll(ref PollEntry entries, nuint count, int timeoutMillis);

    [StructLayout(LayoutKind.Sequential)]
    private struct PollEntry
    {
        public int Fd;
        public short Events;
        public short Returned;
    }
}

using System.Runtime.InteropServices;

namespace AgentSecurity.Sandbox;

/// <summary>CPU time of the calling thread (CLOCK_THREAD_CPUTIME_ID): what an in-process execution used.</summary>
internal static partial class ThreadCpuClock
{
    private const int ThreadCpuTimeClock = 3;

    public static TimeSpan Now() =>
        ClockGetTime(ThreadCpuTimeClock, out var time) == 0
            ? TimeSpan.FromTicks((time.Seconds * TimeSpan.TicksPerSecond) + (time.Nanoseconds / 100))
            : TimeSpan.Zero;

    [StructLayout(LayoutKind.Sequential)]
    private struct TimeSpec
    {
        public long Seconds;
        public long Nanoseconds;
    }

    [LibraryImport("libc", EntryPoint = "clock_gettime")]
    private static partial int ClockGetTime(int clock, out TimeSpec time);
}

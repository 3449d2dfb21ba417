namespace AgentSecurity.Grains.Tests.Skew;

/// <summary>
/// A silo's wall clock that differs from <paramref name="clock"/> by <paramref name="offset"/>, as a machine's clock
/// drifts: only the time of day is off; elapsed time and timers run with <paramref name="clock"/>.
/// </summary>
internal sealed class OffsetTimeProvider(TimeProvider clock, TimeSpan offset) : TimeProvider
{
    public TimeSpan Offset => offset;

    public override DateTimeOffset GetUtcNow() => clock.GetUtcNow() + offset;

    public override long GetTimestamp() => clock.GetTimestamp();

    public override long TimestampFrequency => clock.TimestampFrequency;

    public override TimeZoneInfo LocalTimeZone => clock.LocalTimeZone;

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period) =>
        clock.CreateTimer(callback, state, dueTime, period);
}

using AgentSecurity.Grains.Execution;
using Microsoft.Extensions.Time.Testing;

namespace AgentSecurity.Grains.Tests.Execution;

/// <summary>
/// An execution's stop never throws, whatever a callback on its token does: a quarantine or revocation stops every
/// execution of the agent in one loop, and a deadline stops it from a timer, where a throw would end the silo's process.
/// </summary>
public sealed class RunningExecutionTests
{
    [Fact]
    public void Stop_ACallbackOnTheTokenThrows_TheExecutionIsStoppedEveryCallbackRunAndTheFailureReported()
    {
        var failures = new List<Exception>();
        using var running = new RunningExecution("js", failures.Add);
        var other = false;
        using var first = running.Token.Register(() => other = true);
        using var failing = running.Token.Register(() => throw new InvalidOperationException("the kill failed"));

        running.Stop("quarantined", "bot was quarantined");

        Assert.True(running.Token.IsCancellationRequested);
        Assert.True(other);
        Assert.Equal(("quarantined", "bot was quarantined"), running.StoppedFor);
        var failure = Assert.IsType<AggregateException>(Assert.Single(failures));
        Assert.Equal("the kill failed", Assert.Single(failure.InnerExceptions).Message);
    }

    [Fact]
    public void StopAfter_ACallbackOnTheTokenThrows_TheDeadlineStopsItWithoutThrowingFromItsTimer()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UnixEpoch);
        var failures = new List<Exception>();
        using var running = new RunningExecution("process", failures.Add);
        using var failing = running.Token.Register(() => throw new InvalidOperationException("the kill failed"));
        running.StopAfter(TimeSpan.FromSeconds(5), "expired", "grant g-1 expired while the code ran", clock);

        clock.Advance(TimeSpan.FromSeconds(5)); // runs the timer's callback here: a throw from it would surface now

        Assert.True(running.Token.IsCancellationRequested);
        Assert.Equal(("expired", "grant g-1 expired while the code ran"), running.StoppedFor);
        Assert.Single(failures);
    }

    [Fact]
    public void Stop_Twice_TheFirstReasonWinsAndCallbacksRunOnce()
    {
        using var running = new RunningExecution("wasm", e => Assert.Fail($"no callback throws here: {e}"));
        var calls = 0;
        using var counted = running.Token.Register(() => calls++);

        running.Stop("revoked", "grant g-1 was revoked");
        running.Stop("quarantined", "bot was quarantined");

        Assert.Equal(("revoked", "grant g-1 was revoked"), running.StoppedFor);
        Assert.Equal(1, calls);
    }

    [Fact]
    public void StopUnlessStartedWithin_NotStartedInTime_StopsForTheStartReason()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UnixEpoch);
        using var running = new RunningExecution("js", e => Assert.Fail($"no callback throws here: {e}"));
        running.StopUnlessStartedWithin(TimeSpan.FromSeconds(15), "unavailable", "no js sandbox was free", clock);

        clock.Advance(TimeSpan.FromSeconds(15));

        Assert.True(running.Token.IsCancellationRequested);
        Assert.Equal(("unavailable", "no js sandbox was free"), running.StoppedFor);
        Assert.False(running.Started()); // too late: its wall clock never starts
    }

    [Fact]
    public void StopUnlessStartedWithin_StartedInTime_TheStartDeadlineNoLongerStopsIt()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UnixEpoch);
        using var running = new RunningExecution("js", e => Assert.Fail($"no callback throws here: {e}"));
        running.StopUnlessStartedWithin(TimeSpan.FromSeconds(15), "unavailable", "no js sandbox was free", clock);

        clock.Advance(TimeSpan.FromSeconds(14));
        var first = running.Started();
        var again = running.Started();
        clock.Advance(TimeSpan.FromSeconds(60));

        Assert.True(first);
        Assert.False(again); // the wall clock starts once
        Assert.False(running.Token.IsCancellationRequested);
        Assert.Null(running.StoppedFor);
    }

    [Fact]
    public void Started_WithoutAStartDeadline_IsNotAStart()
    {
        using var running = new RunningExecution("wasm", e => Assert.Fail($"no callback throws here: {e}"));

        Assert.False(running.Started()); // a runtime that starts at once has its wall clock from the kernel's call
    }
}

using AgentSecurity.Grains.Boundary.Frames;
using Microsoft.Extensions.Time.Testing;

namespace AgentSecurity.Grains.Tests.Boundary.Frames;

public sealed class AwaitedAnswersTests
{
    private static readonly byte[] Type = "agentsec.audit"u8.ToArray();
    private static readonly byte[] Key = "t1"u8.ToArray();

    private readonly FakeTimeProvider _time = new();

    [Fact]
    public void TryTake_WithinItsLifetime_IsTrueOnce()
    {
        var awaited = new AwaitedAnswers(_time, TimeSpan.FromMinutes(10));
        awaited.Add(5, Type, Key);
        _time.Advance(TimeSpan.FromMinutes(10));

        Assert.True(awaited.TryTake(5, Type, Key));
        Assert.False(awaited.TryTake(5, Type, Key));
        Assert.Equal(0, awaited.Count);
    }

    [Fact]
    public void TryTake_PastItsLifetime_IsFalse()
    {
        var awaited = new AwaitedAnswers(_time, TimeSpan.FromMinutes(10));
        awaited.Add(5, Type, Key);
        _time.Advance(TimeSpan.FromMinutes(10) + TimeSpan.FromMilliseconds(1));

        Assert.False(awaited.TryTake(5, Type, Key));
    }

    [Fact]
    public void Add_PastALifetime_ForgetsRequestsNeverAnswered()
    {
        var awaited = new AwaitedAnswers(_time, TimeSpan.FromMinutes(10));
        for (var id = 0; id < 100; id++)
        {
            awaited.Add(id, Type, Key);
        }

        _time.Advance(TimeSpan.FromMinutes(11));
        awaited.Add(1000, Type, Key);

        Assert.Equal(1, awaited.Count);
    }

    [Fact]
    public void Add_AtCapacity_AwaitsNoMore()
    {
        var awaited = new AwaitedAnswers(_time, TimeSpan.FromMinutes(10), capacity: 3);
        for (var id = 0; id < 5; id++)
        {
            awaited.Add(id, Type, Key);
        }

        Assert.Equal(3, awaited.Count);
        Assert.True(awaited.TryTake(2, Type, Key));
        Assert.False(awaited.TryTake(3, Type, Key));
    }
}

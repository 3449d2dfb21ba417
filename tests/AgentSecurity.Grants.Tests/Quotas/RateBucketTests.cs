using AgentSecurity.Grants.Quotas;

namespace AgentSecurity.Grants.Tests.Quotas;

public sealed class RateBucketTests
{
    private static readonly DateTimeOffset T0 = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    [Fact]
    public void TryConsume_AtOneInstant_AllowsExactlyTheLimit()
    {
        var bucket = new RateBucket(3, TimeSpan.FromSeconds(1));

        var results = Enumerable.Range(0, 5).Select(_ => (bucket.TryConsume(1, T0, out var remaining), remaining)).ToList();

        Assert.Equal([(true, 2L), (true, 1L), (true, 0L), (false, 0L), (false, 0L)], results);
    }

    [Fact]
    public void TryConsume_Refills_OneUnitPerIntervalAndNeverMore()
    {
        var bucket = new RateBucket(3, TimeSpan.FromSeconds(1));
        for (var i = 0; i < 3; i++)
        {
            Assert.True(bucket.TryConsume(1, T0, out _));
        }

        Assert.False(bucket.TryConsume(1, T0.AddTicks(TimeSpan.TicksPerSecond / 3 - 1), out _));
        Assert.True(bucket.TryConsume(1, T0.AddTicks(TimeSpan.TicksPerSecond / 3 + 1), out _));
        Assert.False(bucket.TryConsume(1, T0.AddTicks(TimeSpan.TicksPerSecond / 3 + 1), out _));
        Assert.Equal(0, bucket.Used(T0.AddSeconds(2)));
    }

    [Fact]
    public void TryConsume_ByAmount_AllowsExactlyTheBudgetPerPeriod()
    {
        var bucket = new RateBucket(1_000, TimeSpan.FromHours(1));

        Assert.True(bucket.TryConsume(600, T0, out var left));
        Assert.Equal(400, left);
        Assert.False(bucket.TryConsume(401, T0, out left));
        Assert.Equal(400, left);
        Assert.True(bucket.TryConsume(400, T0, out left));
        Assert.Equal(0, left);
        Assert.True(bucket.TryConsume(600, T0.AddMinutes(36), out _));
        Assert.False(bucket.TryConsume(1, T0.AddMinutes(36), out _));
    }

    [Fact]
    public void TryConsume_CostAboveTheLimitOrZeroLimit_IsAlwaysDenied()
    {
        Assert.False(new RateBucket(10, TimeSpan.FromHours(1)).TryConsume(11, T0, out _));
        Assert.False(new RateBucket(0, TimeSpan.FromHours(1)).TryConsume(1, T0, out _));
    }

    [Fact]
    public void TryConsume_HugeLimitsAndLongRuns_StayExact()
    {
        var bucket = new RateBucket(9_007_199_254_740_991, TimeSpan.FromHours(1));

        Assert.True(bucket.TryConsume(9_007_199_254_740_991, T0, out var left));
        Assert.Equal(0, left);
        Assert.False(bucket.TryConsume(1, T0, out _));
        Assert.True(bucket.TryConsume(9_007_199_254_740_991, T0.AddYears(100), out _));
    }

    [Fact]
    public void Reserve_FromStoredUse_RestoresUse()
    {
        var bucket = new RateBucket(100, TimeSpan.FromSeconds(10));

        bucket.AtLeast(bucket.Reserve(70, T0));

        Assert.Equal(70, bucket.Used(T0));
        Assert.True(bucket.TryConsume(30, T0, out _));
        Assert.False(bucket.TryConsume(1, T0, out _));
    }
}

using AgentSecurity.Grains.Quotas;

namespace AgentSecurity.Grains.Tests.Quotas;

/// <summary>
/// A rate limit whose spending is reserved in storage a chunk at a time: what is spent comes out of a written
/// reservation, and what a new activation reads back counts every reserved unit as spent.
/// </summary>
public sealed class ReservedBucketTests
{
    private static readonly DateTimeOffset T0 = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    private static readonly TimeSpan Hour = TimeSpan.FromHours(1);

    /// <summary>A bucket of 1000 an hour with <paramref name="reserved"/> units reserved by a written record.</summary>
    private static ReservedBucket Reserved(long reserved)
    {
        var bucket = new ReservedBucket(1_000, Hour, stored: null);
        bucket.Reserved(new BucketRecord { At = T0, Used = 0, Reserved = reserved });
        return bucket;
    }

    private static void Spend(ReservedBucket bucket, long cost)
    {
        Assert.True(bucket.Bucket.Fits(cost, T0, out _));
        bucket.Consume(cost, bucket.Bucket.TatAfter(cost, T0));
    }

    [Theory]
    [InlineData(3, 1, 3)] // per second: the whole budget, a second's worth
    [InlineData(20, 2, 10)] // a second's worth is more than a tenth
    [InlineData(600, 60, 60)] // per minute: a tenth
    [InlineData(1_000, 3_600, 100)] // per hour: a tenth
    [InlineData(5, 3_600, 1)] // never less than one
    [InlineData(0, 3_600, 1)]
    public void Chunk_IsATenthOfTheLimitAndAtLeastASecondsWorth(long limit, int periodSeconds, long chunk) =>
        Assert.Equal(chunk, new ReservedBucket(limit, TimeSpan.FromSeconds(periodSeconds), stored: null).Chunk);

    [Fact]
    public void NeedsReservation_NothingWritten_IsTrueForAnyCost()
    {
        var bucket = new ReservedBucket(1_000, Hour, stored: null);

        Assert.True(bucket.NeedsReservation(1));
        Assert.False(bucket.NeedsReservation(0)); // an amount of 0 spends nothing
    }

    [Fact]
    public void NeedsReservation_WithinWhatIsReserved_IsFalse()
    {
        var bucket = Reserved(100);
        Spend(bucket, 30);

        Assert.False(bucket.NeedsReservation(70));
        Assert.True(bucket.NeedsReservation(71));
    }

    [Fact]
    public void ReservationFor_IsWhatIsInUsePlusAChunkOrTheCost()
    {
        var bucket = Reserved(100);
        Spend(bucket, 100);

        var chunk = bucket.ReservationFor(1, T0);
        var big = bucket.ReservationFor(250, T0);

        Assert.Equal((T0, 100L, 100L), (chunk.At, chunk.Used, chunk.Reserved));
        Assert.Equal(250, big.Reserved);
    }

    [Fact]
    public void Constructor_StoredRecord_TakesUsedAndReservedAsSpentWhenItWasWritten()
    {
        // Written half an hour ago with 600 in use and 100 reserved: 700 spent then, 500 of it earned back since.
        var stored = new BucketRecord { At = T0.AddMinutes(-30), Used = 600, Reserved = 100 };

        var bucket = new ReservedBucket(1_000, Hour, stored);

        Assert.Equal(200, bucket.Bucket.Used(T0));
        Assert.True(bucket.NeedsReservation(1)); // the old activation's reservation is not this one's
    }

    [Fact]
    public void RenewalDue_LessThanHalfAChunkLeftAndNoneUnderWay_IsTrue()
    {
        var bucket = Reserved(100);
        Spend(bucket, 50);
        Assert.False(bucket.RenewalDue);

        Spend(bucket, 1);
        Assert.True(bucket.RenewalDue);

        var record = bucket.BeginRenewal(T0);
        Assert.Equal((51L, 149L), (record.Used, record.Reserved));
        Assert.False(bucket.RenewalDue);
    }

    [Theory]
    [InlineData(true, 149)]
    [InlineData(false, 49)]
    public void EndRenewal_AddsTheChunkOnlyWhenWritten(bool written, long reserved)
    {
        var bucket = Reserved(100);
        Spend(bucket, 51);
        bucket.BeginRenewal(T0);

        bucket.EndRenewal(written);

        Assert.False(bucket.Renewing);
        Assert.False(bucket.NeedsReservation(reserved));
        Assert.True(bucket.NeedsReservation(reserved + 1));
    }

    [Fact]
    public void RefundAsReserved_GivesBackAtMostWhatIsInUse()
    {
        var bucket = Reserved(100);
        Spend(bucket, 30);

        Assert.Equal(30, bucket.RefundAsReserved(50, T0));
        Assert.Equal(0, bucket.Bucket.Used(T0));
        // The refunded units were counted as spent by the reservation written, so they can be spent again without a write.
        Assert.False(bucket.NeedsReservation(100));
        Assert.Equal(0, bucket.RefundAsReserved(-5, T0));
    }

    [Fact]
    public void Snapshot_IsWhatIsInUseWithNothingReserved()
    {
        var bucket = Reserved(100);
        Spend(bucket, 30);

        var snapshot = bucket.Snapshot(T0);

        Assert.Equal((T0, 30L, 0L), (snapshot.At, snapshot.Used, snapshot.Reserved));
    }
}

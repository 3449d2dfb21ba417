using AgentSecurity.Grants.Quotas;

namespace AgentSecurity.Grains.Quotas;

/// <summary>
/// A <see cref="RateBucket"/> whose spending is reserved in storage ahead, a chunk at a time: an activation may spend
/// only units it has reserved by a successful (ETag-checked) write, and a new activation counts every reserved unit
/// as spent. So counters survive crashes and restarts, a duplicate activation cannot spend what another reserved, and
/// storage is written once per chunk, never per check. The next chunk is reserved in the background once less than
/// half a chunk is left, so a check waits for storage only when spending outruns that write. The price: after a
/// crash, up to a chunk and a half may be counted as spent that never was (the loss window errs towards denying).
/// </summary>
internal sealed class ReservedBucket : RateBucket
{
    /// <summary>
    /// A chunk is a tenth of the limit, and at least a second's worth of it: at full use, at most ten reservation
    /// writes per period and one per second (a per-second limit reserves its whole budget at a time).
    /// </summary>
    public const int ChunksPerPeriod = 10;

    private long _reserved;

    public ReservedBucket(long limit, TimeSpan period, BucketRecord? stored)
        : base(limit, period)
    {
        Chunk = Math.Max(1, limit / (long)Math.Clamp(period.TotalSeconds, 1, ChunksPerPeriod));
        if (stored is not null)
        {
            // Everything used or reserved at the last write is taken as spent at that moment, added without wrapping; a
            // count that cannot be (negative: what wrapped before this was added so) as a whole period's budget.
            var spent = stored.Used < 0 || stored.Reserved < 0 ? limit : Saturating.Add(stored.Used, stored.Reserved);
            Bucket.AtLeast(Bucket.Reserve(spent, stored.At));
        }
    }

    /// <summary>The rate limit itself: this object, whose reservations are kept with it (one object per limit, not two).</summary>
    public RateBucket Bucket => this;

    public long Chunk { get; }

    /// <summary>
    /// The limit of the grant this bucket meters, for an agent's buckets: kept in the object's padding, so that an agent
    /// holds its buckets in one array of references rather than of (limit, bucket) pairs.
    /// </summary>
    public MeteredLimit Metered { get; init; }

    /// <summary>Whether spending <paramref name="cost"/> needs a reservation written first.</summary>
    public bool NeedsReservation(long cost) => cost > _reserved;

    /// <summary>The record to write before spending <paramref name="cost"/>: what is in use now plus a fresh chunk.</summary>
    public BucketRecord ReservationFor(long cost, DateTimeOffset now) =>
        new() { At = now, Used = Bucket.Used(now), Reserved = Math.Max(cost, Chunk) };

    /// <summary>Takes a written reservation as this activation's allowance.</summary>
    public void Reserved(BucketRecord record) => _reserved = record.Reserved;

    /// <summary>Whether a background reservation of the next chunk should start: less than half a chunk left, none under way.</summary>
    public bool RenewalDue => !Renewing && _reserved < (Chunk + 1) / 2;

    /// <summary>A reservation of the next chunk is being written.</summary>
    public bool Renewing { get; private set; }

    /// <summary>
    /// The record that reserves the next chunk on top of what is left: everything this activation may spend until the
    /// write lands comes out of what is left, which the record counts too.
    /// </summary>
    public BucketRecord BeginRenewal(DateTimeOffset now)
    {
        Renewing = true;
        return new() { At = now, Used = Bucket.Used(now), Reserved = _reserved + Chunk };
    }

    /// <summary>Adds the chunk once its reservation is stored; a failed write adds nothing.</summary>
    public void EndRenewal(bool written)
    {
        _reserved += written ? Chunk : 0;
        Renewing = false;
    }

    /// <summary>Spends a cost already known to fit, up to the TAT computed for it.</summary>
    public void Consume(long cost, Int128 tatAfter)
    {
        Bucket.Commit(tatAfter);
        _reserved = Saturating.Add(_reserved, -cost);
    }

    /// <summary>
    /// Takes back units spent earlier and not used after all (a lapsed lease's remainder). The last reservation written
    /// counts them as spent already, so they can be spent again without reserving them anew.
    /// </summary>
    /// <remarks>
    /// Not named <c>Refund</c>: hiding <see cref="RateBucket.Refund"/> would let a call through the base type (as
    /// <see cref="Bucket"/> is) skip adding to what is reserved.
    /// </remarks>
    public long RefundAsReserved(long units, DateTimeOffset now)
    {
        var refunded = Math.Clamp(units, 0, Bucket.Used(now));
        Bucket.Refund(refunded, now);
        _reserved += refunded;
        return refunded;
    }

    /// <summary>The exact state, for a clean deactivation: nothing reserved beyond what is in use.</summary>
    public BucketRecord Snapshot(DateTimeOffset now) => new() { At = now, Used = Bucket.Used(now), Reserved = 0 };
}

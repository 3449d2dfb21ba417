namespace AgentSecurity.Grants.Quotas;

/// <summary>
/// A rate limit of <see cref="Limit"/> units per <see cref="Period"/>, bursting up to the whole limit: the generic cell
/// rate algorithm (GCRA), kept as one number, the theoretical arrival time (TAT). Time is scaled by the limit so that
/// every step is exact integer arithmetic: a limit allows exactly its budget, never one more through rounding.
/// </summary>
/// <remarks>
/// Chosen over a sliding window (no per-event history to keep) and over a token bucket with fractional tokens (no
/// floating point): one <see cref="Int128"/> per limit, O(1) per check, and a denial changes nothing. Not sealed so that
/// a bucket with more to keep (an agent's reservations) is one object, not two: an agent keeps one per limit.
/// </remarks>
public class RateBucket
{
    public RateBucket(long limit, TimeSpan period, Int128 tat = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(limit);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(period, TimeSpan.Zero);
        Limit = limit;
        Period = period;
        Tat = tat;
    }

    public long Limit { get; }

    public TimeSpan Period { get; }

    // Derived, not a field: an agent holds a bucket per limit of its grant, and an Int128 field is 16 bytes of each.
    private Int128 PeriodTicks => Period.Ticks;

    /// <summary>The theoretical arrival time in ticks × limit: everything consumed so far is paid off at TAT / limit.</summary>
    public Int128 Tat { get; private set; }

    /// <summary>What consuming <paramref name="cost"/> now would make the TAT; no change to the bucket.</summary>
    public Int128 TatAfter(long cost, DateTimeOffset now) => Int128.Max(Tat, Scaled(now)) + (cost * PeriodTicks);

    /// <summary>Whether <paramref name="cost"/> fits now, and what would remain after it (or remains now, if it does not fit).</summary>
    public bool Fits(long cost, DateTimeOffset now, out long remaining)
    {
        var scaledNow = Scaled(now);
        var capacity = Limit * PeriodTicks;
        var after = TatAfter(cost, now) - scaledNow;
        var fits = cost <= Limit && after <= capacity;
        var left = capacity - (fits ? after : Int128.Max(Tat - scaledNow, 0));
        remaining = (long)Int128.Clamp(left / PeriodTicks, long.MinValue, long.MaxValue);
        return fits;
    }

    /// <summary>Spends up to a TAT computed by <see cref="TatAfter"/> for a cost that <see cref="Fits"/>.</summary>
    public void Commit(Int128 tat) => Tat = Int128.Max(Tat, tat);

    /// <summary>Consumes <paramref name="cost"/> if it fits; a refusal consumes nothing.</summary>
    public bool TryConsume(long cost, DateTimeOffset now, out long remaining)
    {
        if (!Fits(cost, now, out remaining))
        {
            return false;
        }

        Tat = TatAfter(cost, now);
        return true;
    }

    /// <summary>Units in use now (consumed and not yet refilled), rounded up; at most <see cref="long.MaxValue"/>.</summary>
    public long Used(DateTimeOffset now)
    {
        var owed = Int128.Max(Tat - Scaled(now), 0);
        return (long)Int128.Min((owed + PeriodTicks - 1) / PeriodTicks, long.MaxValue);
    }

    /// <summary>Gives back up to <paramref name="units"/> units in use (never more than are in use now).</summary>
    public void Refund(long units, DateTimeOffset now) => Tat = Int128.Max(Int128.Min(Tat, Scaled(now)), Tat - (Int128.Max(units, 0) * PeriodTicks));

    /// <summary>Moves the TAT forward to at least <paramref name="tat"/> (a restart assumes reserved units were spent).</summary>
    public void AtLeast(Int128 tat) => Tat = Int128.Max(Tat, tat);

    /// <summary>The TAT at which <paramref name="units"/> more than now would be in use: for reserving ahead.</summary>
    public Int128 Reserve(long units, DateTimeOffset now) => Int128.Max(Tat, Scaled(now)) + (units * PeriodTicks);

    private Int128 Scaled(DateTimeOffset now) => (Int128)now.UtcTicks * Limit;
}

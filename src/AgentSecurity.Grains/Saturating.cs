namespace AgentSecurity.Grains;

/// <summary>
/// Sums of counts that stop at the ends of <see cref="long"/> instead of wrapping to a count of the other sign: an amount
/// a caller names (a check's, a usage's) must never turn what is spent or stored into a negative count that fits any limit.
/// </summary>
internal static class Saturating
{
    public static long Add(long a, long b) => (long)Int128.Clamp((Int128)a + b, long.MinValue, long.MaxValue);
}

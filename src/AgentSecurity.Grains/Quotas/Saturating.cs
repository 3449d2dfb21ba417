namespace AgentSecurity.Grains.Quotas;

/// <summary>Sums of counts that stop at the ends of <see cref="long"/> instead of wrapping to a count of the other sign.</summary>
internal static class Saturating
{
    public static long Add(long a, long b) => (long)Int128.Clamp((Int128)a + b, long.MinValue, long.MaxValue);
}

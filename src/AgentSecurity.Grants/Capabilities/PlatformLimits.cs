namespace AgentSecurity.Grants.Capabilities;

/// <summary>
/// What the platform puts in place of a limit a grant leaves out, and the most it gives whatever a grant says: the one
/// meaning of an absent limit, for executions and for attenuation alike. A limit with neither (a rate such as
/// <c>checksPerSecond</c>) is unlimited when absent.
/// </summary>
/// <param name="Defaults">In force where a grant sets no value.</param>
/// <param name="Maximums">The most any grant gets.</param>
public sealed record PlatformLimits(ResourceLimits Defaults, ResourceLimits Maximums)
{
    /// <summary>No defaults, no maximums: an absent limit is unlimited (for pure comparisons of documents).</summary>
    public static readonly PlatformLimits None = new(ResourceLimits.None, ResourceLimits.None);

    /// <summary>An execution needs some memory, CPU, wall time and output: these are at least 1 whatever a grant says.</summary>
    private static readonly HashSet<string> AtLeastOne =
        new(StringComparer.Ordinal) { "maxMemoryBytes", "maxCpuMillis", "maxWallMillis", "maxOutputBytes" };

    /// <summary>
    /// The limit in force for a grant that says <paramref name="granted"/> (null: says nothing): the grant's value, else the
    /// default, else the maximum, never above the maximum; null for unlimited.
    /// </summary>
    public long? Effective(string name, long? granted)
    {
        if ((granted ?? Defaults.Get(name) ?? Maximums.Get(name)) is not { } value)
        {
            return null; // neither the grant nor the platform bounds it
        }

        var floor = AtLeastOne.Contains(name) ? 1 : 0;
        return Math.Clamp(value, floor, Math.Max(floor, Maximums.Get(name) ?? long.MaxValue));
    }

    /// <summary>Every limit as the platform applies it to a grant's <paramref name="granted"/> limits.</summary>
    public ResourceLimits EffectiveOf(ResourceLimits granted)
    {
        var effective = ResourceLimits.None;
        foreach (var name in ResourceLimits.Names)
        {
            if (Effective(name, granted.Get(name)) is { } value)
            {
                effective = effective.With(name, value);
            }
        }

        return effective;
    }
}

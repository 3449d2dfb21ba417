namespace AgentSecurity.Grains.Permissions;

/// <summary>
/// One copy of a string that many active agents hold equal copies of: signers' DIDs (a tenant's few root and admin keys
/// sign most of its grants), tenant ids (each agent's key is parsed into a tenant id of its own). Strings are immutable,
/// so sharing one changes nothing an agent decides. Bounded: past <see cref="Capacity"/> distinct strings a string is
/// not shared but returned as it is. Entries are added only from verified grants (their signers, and the tenants of
/// agents that applied or loaded one), never from what anyone may send unverified, such as a grain key: else junk
/// keys could fill the table and leave no room for the real ones.
/// </summary>
internal sealed class SharedStrings(int capacity)
{
    /// <summary>Strings longer than this are not shared: what is shared is short and common, never a document.</summary>
    public const int MaxLength = 256;

    private readonly Lock _gate = new();
    private readonly HashSet<string> _strings = new(StringComparer.Ordinal);

    /// <summary>The signers' DIDs of the silo's active grants.</summary>
    public static SharedStrings Signers { get; } = new(4096);

    /// <summary>The tenant ids of agents that applied or loaded a verified grant; looked up (<see cref="Find"/>), not added, from grain keys.</summary>
    public static SharedStrings Tenants { get; } = new(4096);

    public int Capacity => capacity;

    /// <summary>How many strings are held (for tests of the bound).</summary>
    public int Count
    {
        get
        {
            lock (_gate)
            {
                return _strings.Count;
            }
        }
    }

    /// <summary>The shared copy of <paramref name="value"/> if one is held, else <paramref name="value"/>; adds nothing.</summary>
    public string Find(string value)
    {
        lock (_gate)
        {
            return _strings.TryGetValue(value, out var shared) ? shared : value;
        }
    }

    /// <summary>The shared copy of <paramref name="value"/>, or <paramref name="value"/> itself when it is not shared.</summary>
    public string For(string value)
    {
        if (value.Length > MaxLength)
        {
            return value;
        }

        lock (_gate)
        {
            if (_strings.TryGetValue(value, out var shared))
            {
                return shared;
            }

            if (_strings.Count < Capacity)
            {
                _strings.Add(value);
            }

            return value;
        }
    }
}

namespace AgentSecurity.Grains.Permissions;

/// <summary>
/// One copy of a string that many active agents hold equal copies of: signers' DIDs (a tenant's few root and admin keys
/// sign most of its grants), tenant ids (each agent's key is parsed into a tenant id of its own). Strings are immutable, so sharing one changes nothing an agent decides.
/// Bounded: past <see cref="Capacity"/> distinct strings a string is not shared but returned as it is, so what the
/// table holds stays small however many keys sign (its entries are signers of verified grants).
/// </summary>
internal sealed class SharedStrings(int capacity)
{
    /// <summary>Strings longer than this are not shared: what is shared is short and common, never a document.</summary>
    public const int MaxLength = 256;

    private readonly Lock _gate = new();
    private readonly HashSet<string> _strings = new(StringComparer.Ordinal);

    /// <summary>The signers' DIDs of the silo's active grants.</summary>
    public static SharedStrings Signers { get; } = new(4096);

    /// <summary>The tenant ids of the silo's active agents with valid keys.</summary>
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

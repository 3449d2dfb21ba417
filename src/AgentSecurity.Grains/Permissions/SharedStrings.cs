namespace AgentSecurity.Grains.Permissions;

/// <summary>
/// One copy of a string that many active agents hold equal copies of: signers' DIDs (a tenant's few root and admin keys
/// sign most of its grants) and tenant ids. Strings are immutable, so sharing one changes nothing an agent decides.
/// Bounded: past <see cref="Capacity"/> distinct strings a string is not shared but returned as it is, so what the
/// table holds stays small however many keys sign (its entries are the verified signers and tenants of the silo).
/// </summary>
internal static class SharedStrings
{
    public const int Capacity = 4096;

    /// <summary>Strings longer than this are not shared: what is shared is short and common, never a document.</summary>
    public const int MaxLength = 256;

    private static readonly Lock Gate = new();
    private static readonly HashSet<string> Strings = new(StringComparer.Ordinal);

    /// <summary>How many strings are held (for tests of the bound).</summary>
    public static int Count
    {
        get
        {
            lock (Gate)
            {
                return Strings.Count;
            }
        }
    }

    /// <summary>The shared copy of <paramref name="value"/>, or <paramref name="value"/> itself when it is not shared.</summary>
    public static string For(string value)
    {
        if (value.Length > MaxLength)
        {
            return value;
        }

        lock (Gate)
        {
            if (Strings.TryGetValue(value, out var shared))
            {
                return shared;
            }

            if (Strings.Count < Capacity)
            {
                Strings.Add(value);
            }

            return value;
        }
    }
}

using AgentSecurity.Grants.Quotas;

namespace AgentSecurity.Grains.Quotas;

/// <summary>
/// One stored reservation as the agent's state holds it in memory: a struct in a small array (an agent has at most one
/// per metered limit), where a dictionary of <see cref="BucketRecord"/>s was a table, its entries and an object per
/// record. The array is never changed in place: <see cref="With"/> makes a new one, so a copy of the state may share it.
/// </summary>
internal readonly record struct BucketEntry(string Limit, DateTimeOffset At, long Used, long Reserved)
{
    /// <summary>The entries as the dictionary the state is stored and copied as: insertion order, as the dictionary kept it.</summary>
    public static Dictionary<string, BucketRecord> ToDictionary(BucketEntry[]? entries)
    {
        var records = new Dictionary<string, BucketRecord>(entries?.Length ?? 0, StringComparer.Ordinal);
        foreach (var entry in entries ?? [])
        {
            records.Add(entry.Limit, new BucketRecord { At = entry.At, Used = entry.Used, Reserved = entry.Reserved }); // one entry a limit: With replaces
        }

        return records;
    }

    /// <summary>The entries of a stored dictionary; null for none. A known limit's name is the kernel's own string.</summary>
    public static BucketEntry[]? FromDictionary(IReadOnlyDictionary<string, BucketRecord>? records) =>
        records is null || records.Count == 0 ? null : [.. records.Select(r => new BucketEntry(NameOf(r.Key), r.Value.At, r.Value.Used, r.Value.Reserved))];

    /// <summary>The entries with <paramref name="limit"/>'s record set: replaced where it was, else added last.</summary>
    public static BucketEntry[] With(BucketEntry[]? entries, string limit, BucketRecord record)
    {
        var entry = new BucketEntry(NameOf(limit), record.At, record.Used, record.Reserved);
        var index = Array.FindIndex(entries ?? [], e => e.Limit == limit);
        if (index < 0)
        {
            return [.. entries ?? [], entry];
        }

        var changed = (BucketEntry[])entries!.Clone();
        changed[index] = entry;
        return changed;
    }

    // A name read back from storage is a string of its own per agent; the kernel's limits share the one literal.
    private static string NameOf(string name) => MeteredLimits.TryParse(name, out var limit) ? limit.Name() : name;
}

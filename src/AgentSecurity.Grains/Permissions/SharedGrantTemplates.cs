namespace AgentSecurity.Grains.Permissions;

/// <summary>
/// Grant text templates shared between agents whose grants differ only in their slots (<see cref="GrantTextTemplate"/>).
/// A template is held for sharing from the second agent that has it on: a template only one agent has cost that agent
/// more than its compressed text (5,684 against 5,454 bytes an agent when no two agents share a grant, `memory 5000
/// --distinct`), so the first keeps its text compressed and the template waits, as text, among the last
/// <see cref="Waiting"/> templates seen once (a fixed cost of the silo, not of any agent). Held weakly, keys included (a
/// template lives while an agent's text uses it, and a dead one leaves only its hash and an empty reference behind), and
/// bounded: past <see cref="Capacity"/> templates a template finds no room and is its agent's own. Dead entries are swept
/// then, but at most once every <see cref="SweepEvery"/> templates that found no room, or after a sweep that freed as
/// many: a sweep copies the whole table under the one lock every agent of the silo takes to apply or load a grant, so a
/// tenant with thousands of distinct live grants must not make each of those pay it.
/// </summary>
internal static class SharedGrantTemplates
{
    public const int Capacity = 4096;

    /// <summary>Templates refused for want of room between two sweeps of a full table.</summary>
    public const int SweepEvery = 256;

    /// <summary>Templates seen once, kept until a second agent has one of them or newer ones push it out.</summary>
    public const int Waiting = 256;

    private static readonly Lock Gate = new();
    private static readonly GrantTextTemplate?[] SeenOnce = new GrantTextTemplate?[Waiting];
    private static int s_nextSeenOnce;
    private static readonly Dictionary<int, List<WeakReference<GrantTextTemplate>>> Templates = [];
    private static int s_count;
    private static int s_refusedSinceSweep = SweepEvery;

    /// <summary>How many templates are held now, dead or alive (for tests of the bound).</summary>
    public static int Count
    {
        get
        {
            lock (Gate)
            {
                return s_count;
            }
        }
    }

    /// <summary>How many sweeps have run (for tests of how often).</summary>
    public static int Sweeps { get; private set; }

    /// <summary>
    /// The held template equal to <paramref name="candidate"/>; else, when one was seen once before, that one compressed
    /// and held (room permitting); else null (the candidate waits: its agent keeps its text compressed). Called only
    /// with a candidate whose text was compared equal to what it rebuilds: a template that does not rebuild its grant
    /// takes no slot.
    /// </summary>
    public static GrantTextTemplate? For(GrantTextTemplate candidate)
    {
        lock (Gate)
        {
            if (Templates.TryGetValue(candidate.GetHashCode(), out var held))
            {
                foreach (var reference in held)
                {
                    if (reference.TryGetTarget(out var shared) && shared.Equals(candidate))
                    {
                        return shared;
                    }
                }
            }

            var seen = Array.FindIndex(SeenOnce, t => t is not null && t.Equals(candidate));
            if (seen < 0)
            {
                SeenOnce[s_nextSeenOnce] = candidate;
                s_nextSeenOnce = (s_nextSeenOnce + 1) % Waiting;
                return null;
            }

            SeenOnce[seen] = null;
            var template = candidate.Compressed();
            if (s_count >= Capacity && ++s_refusedSinceSweep >= SweepEvery)
            {
                Sweep();
                held = Templates.GetValueOrDefault(template.GetHashCode());
            }

            if (s_count < Capacity)
            {
                if (held is null)
                {
                    Templates[template.GetHashCode()] = held = [];
                }

                held.Add(new WeakReference<GrantTextTemplate>(template));
                s_count++;
            }

            return template;
        }
    }

    /// <summary>Whether a template equal to <paramref name="candidate"/> is held and alive (for tests: only an agent's text keeps one alive).</summary>
    public static bool HoldsAlive(GrantTextTemplate candidate)
    {
        lock (Gate)
        {
            return Templates.TryGetValue(candidate.GetHashCode(), out var held) &&
                held.Exists(r => r.TryGetTarget(out var shared) && shared.Equals(candidate));
        }
    }

    private static void Sweep()
    {
        Sweeps++;
        var freed = 0;
        foreach (var (hash, held) in Templates.ToList())
        {
            freed += held.RemoveAll(r => !r.TryGetTarget(out _));
            if (held.Count == 0)
            {
                Templates.Remove(hash);
            }
        }

        // A sweep that freed many may sweep again as soon as the table is full (what it freed was filled first, so it
        // is paid for); one that freed few waits for SweepEvery refused templates.
        s_count -= freed;
        s_refusedSinceSweep = freed >= SweepEvery ? SweepEvery : 0;
    }
}

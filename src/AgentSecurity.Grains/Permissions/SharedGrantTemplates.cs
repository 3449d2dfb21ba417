namespace AgentSecurity.Grains.Permissions;

/// <summary>
/// Grant text templates shared between agents whose grants differ only in their slots (<see cref="GrantTextTemplate"/>).
/// Held weakly, keys included (a template lives while an agent's text uses it, and a dead one leaves only its hash and
/// an empty reference behind), and bounded as <see cref="SharedPolicies"/> is: past <see cref="Capacity"/> templates,
/// dead entries are swept, and a template that still finds no room is its agent's own.
/// </summary>
internal static class SharedGrantTemplates
{
    public const int Capacity = 4096;

    private static readonly Lock Gate = new();
    private static readonly Dictionary<int, List<WeakReference<GrantTextTemplate>>> Templates = [];
    private static int s_count;

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

    /// <summary>The template equal to <paramref name="template"/> that another agent holds, else <paramref name="template"/>.</summary>
    public static GrantTextTemplate For(GrantTextTemplate template)
    {
        lock (Gate)
        {
            if (Templates.TryGetValue(template.GetHashCode(), out var held))
            {
                foreach (var reference in held)
                {
                    if (reference.TryGetTarget(out var shared) && shared.Equals(template))
                    {
                        return shared;
                    }
                }
            }

            if (s_count >= Capacity)
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

    private static void Sweep()
    {
        foreach (var (hash, held) in Templates.ToList())
        {
            s_count -= held.RemoveAll(r => !r.TryGetTarget(out _));
            if (held.Count == 0)
            {
                Templates.Remove(hash);
            }
        }
    }
}

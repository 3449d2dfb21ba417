using AgentSecurity.Grants.Documents;
using AgentSecurity.Grants.Policy;

namespace AgentSecurity.Grains.Permissions;

/// <summary>
/// Compiled policies shared between agents whose grants compile the same: equal terms (capabilities, scopes, limits,
/// isolation, tools and time window) under the same clock skew. A <see cref="GrantPolicy"/> is immutable and a function
/// of exactly these; it holds nothing of its agent or tenant (grant id, agent, signer, revocations and state stay with
/// the agent's <see cref="ActiveGrant"/> and <see cref="AgentPermissions"/>), so an agent decides with a shared policy
/// exactly as with its own. Held weakly (a policy lives while an agent holds it) and bounded: past
/// <see cref="Capacity"/> distinct policies, dead entries are swept, and a grant that still finds no room compiles its
/// own. Bytes per active agent count: many agents of a platform hold the same grant but for their ids.
/// </summary>
internal static class SharedPolicies
{
    public const int Capacity = 4096;

    private static readonly Lock Gate = new();
    private static readonly Dictionary<(GrantTerms Terms, TimeSpan ClockSkew), WeakReference<GrantPolicy>> Policies = new(new TermsComparer());
    private static int s_refusedSinceSweep = SharedGrantTemplates.SweepEvery;

    /// <summary>How many policies are held now, dead or alive (for tests of the bound).</summary>
    public static int Count
    {
        get
        {
            lock (Gate)
            {
                return Policies.Count;
            }
        }
    }

    /// <summary>The policy of <paramref name="terms"/>: one another agent holds if their terms are equal, else a new one.</summary>
    public static GrantPolicy For(GrantTerms terms, TimeSpan clockSkew)
    {
        var key = (terms, clockSkew);
        lock (Gate)
        {
            if (Policies.TryGetValue(key, out var held) && held.TryGetTarget(out var shared))
            {
                return shared;
            }

            var policy = new GrantPolicy(terms, clockSkew);
            // A sweep copies the table under the lock every activation takes: at most once every SweepEvery
            // policies that found no room, as SharedGrantTemplates does.
            if (Policies.Count >= Capacity && !Policies.ContainsKey(key) && ++s_refusedSinceSweep >= SharedGrantTemplates.SweepEvery)
            {
                Sweep();
            }

            if (Policies.Count < Capacity || Policies.ContainsKey(key))
            {
                Policies[key] = new WeakReference<GrantPolicy>(policy);
            }

            return policy;
        }
    }

    private static void Sweep()
    {
        s_refusedSinceSweep = 0;
        foreach (var dead in Policies.Where(p => !p.Value.TryGetTarget(out _)).Select(p => p.Key).ToList())
        {
            Policies.Remove(dead);
        }
    }

    /// <summary>
    /// Terms compare by what they say: records compare lists by reference, and a time compares with its offset (the
    /// policy's messages print it). Every member of <see cref="GrantTerms"/> is compared; a test fails when one is added.
    /// </summary>
    private sealed class TermsComparer : IEqualityComparer<(GrantTerms Terms, TimeSpan ClockSkew)>
    {
        public bool Equals((GrantTerms Terms, TimeSpan ClockSkew) x, (GrantTerms Terms, TimeSpan ClockSkew) y)
        {
            var (a, b) = (x.Terms, y.Terms);
            return x.ClockSkew == y.ClockSkew
                && a.Capabilities.Equals(b.Capabilities)
                && a.Limits.Equals(b.Limits)
                && a.Isolation == b.Isolation
                && a.NotBefore.EqualsExact(b.NotBefore)
                && a.ExpiresAt.EqualsExact(b.ExpiresAt)
                && Same(a.Scopes.FileSystem, b.Scopes.FileSystem)
                && Same(a.Scopes.Network, b.Scopes.Network)
                && Same(a.Scopes.Memory, b.Scopes.Memory)
                && a.Tools.Equals(b.Tools);
        }

        public int GetHashCode((GrantTerms Terms, TimeSpan ClockSkew) key) => HashCode.Combine(
            key.ClockSkew,
            key.Terms.Capabilities,
            key.Terms.Limits,
            key.Terms.Isolation,
            key.Terms.NotBefore,
            key.Terms.ExpiresAt,
            key.Terms.Scopes.FileSystem?.Count ?? -1,
            key.Terms.Tools.Patterns.Count);

        private static bool Same(IReadOnlyList<string>? a, IReadOnlyList<string>? b) =>
            a is null || b is null ? a is null && b is null : a.SequenceEqual(b, StringComparer.Ordinal);
    }
}

using AgentSecurity.Grants.Capabilities;
using AgentSecurity.Grants.Documents;
using AgentSecurity.Grants.Policy;
using CsCheck;

namespace AgentSecurity.Grants.Tests.Policy;

/// <summary>
/// The property that makes delegation safe: for random parent and child grants, whenever the child is accepted as
/// within its parent, every request the child allows, the parent allows too.
/// </summary>
public sealed class AttenuationPropertyTests
{
    private static readonly DateTimeOffset Start = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
    private static readonly TimeSpan Skew = TimeSpan.FromSeconds(60);

    private static readonly string[] Segments = ["a", "b", "c", "*", "**", "a*", "*b", "x.log"];
    // With internal addresses, which only a pattern that names them allows (a wildcard matching their text does not).
    private static readonly string[] Hosts = ["a.example.com:443", "*.example.com:443", "*.example.com:*", "b.example.com:*", "example.com:443", "a.example.com:80", "*.a.example.com:443",
        "127.0.0.1:*", "127.0.0.1:80", "*.0.0.1:*", "localhost:80", "*.localhost:*", "db.localhost:*"];
    private static readonly string[] ResourceSegments = ["a", "b", "c", "ab", "cb", "x.log", "a.log"];
    private static readonly string[] HostResources = ["a.example.com:443", "b.example.com:443", "example.com:443", "a.example.com:80", "b.example.com:8080", "x.a.example.com:443", "evil.com:443",
        "127.0.0.1:80", "127.0.0.1:22", "localhost:80", "db.localhost:5432"];

    private static readonly Gen<string> PathPatternGen = Gen.Int[1, 3].SelectMany(n => Gen.OneOf(Segments).Array[n]).Select(s => "/" + string.Join('/', s));
    private static readonly Gen<string> KeyPatternGen = Gen.Int[1, 3].SelectMany(n => Gen.OneOf(Segments).Array[n]).Select(s => string.Join('/', s));

    private static Gen<IReadOnlyList<string>?> ScopeGen(Gen<string> pattern) =>
        Gen.Frequency((1, Gen.Const((IReadOnlyList<string>?)null)), (3, pattern.Array[0, 3].Select(a => (IReadOnlyList<string>?)a)));

    private static readonly Gen<GrantTerms> TermsGen =
        from fs in Gen.OneOf(AccessLevel.None, AccessLevel.Read, AccessLevel.Write, AccessLevel.Full)
        from net in Gen.OneOf(NetworkAccess.None, NetworkAccess.Inbound, NetworkAccess.Outbound, NetworkAccess.Full)
        from memory in Gen.OneOf(AccessLevel.None, AccessLevel.Read, AccessLevel.Write, AccessLevel.Full)
        from flags in Gen.Bool.Array[3]
        from fsScopes in ScopeGen(PathPatternGen)
        from netScopes in ScopeGen(Gen.OneOf(Hosts))
        from memScopes in ScopeGen(KeyPatternGen)
        from isolation in Gen.OneOf(IsolationLevel.Sandboxed, IsolationLevel.Native, IsolationLevel.External)
        from offset in Gen.Int[-3, 3]
        from length in Gen.Int[1, 6]
        select new GrantTerms(
            new CapabilitySet(fs, net, memory, flags[0], flags[1], flags[2]),
            new GrantScopes(fsScopes, netScopes, memScopes),
            ResourceLimits.None,
            isolation,
            Start.AddHours(offset),
            Start.AddHours(offset + length));

    // A child is often a copy of its parent with a few dimensions redrawn, so that many pairs are within.
    private static readonly Gen<(GrantTerms Parent, GrantTerms Child)> PairGen =
        from parent in TermsGen
        from other in TermsGen
        from keep in Gen.Bool.Array[5]
        select (parent, new GrantTerms(
            keep[0] ? parent.Capabilities : other.Capabilities,
            new GrantScopes(
                keep[1] ? parent.Scopes.FileSystem : other.Scopes.FileSystem,
                keep[2] ? parent.Scopes.Network : other.Scopes.Network,
                keep[3] ? parent.Scopes.Memory : other.Scopes.Memory),
            ResourceLimits.None,
            keep[4] ? parent.Isolation : other.Isolation,
            keep[4] ? parent.NotBefore : other.NotBefore,
            keep[4] ? parent.ExpiresAt : other.ExpiresAt));

    private static readonly Gen<(string Capability, string? Resource, DateTimeOffset At)> RequestGen =
        from capability in Gen.OneOf(CheckKinds.Names.ToArray())
        from path in Gen.Int[1, 4].SelectMany(n => Gen.OneOf(ResourceSegments).Array[n])
        from host in Gen.OneOf(HostResources)
        from hour in Gen.Int[-4, 10]
        select (capability,
            CheckKinds.TryParse(capability, out var kind) ? kind.ResourceKindOf() switch
            {
                ResourceKind.Path => "/" + string.Join('/', path),
                ResourceKind.Key => string.Join('/', path),
                ResourceKind.Host => host,
                _ => (string?)null,
            } : null,
            Start.AddHours(hour).AddMinutes(30));

    [Fact]
    public void WithinParent_RandomPairs_AcceptedChildAllowsOnlyWhatParentAllows()
    {
        var accepted = 0;
        var childAllowed = 0;
        PairGen.Select(RequestGen.Array[20]).Sample((pair, requests) =>
        {
            if (Attenuation.WithinParent(pair.Parent, pair.Child, PlatformLimits.None) is not null)
            {
                return true;
            }

            Interlocked.Increment(ref accepted);
            var parent = new GrantPolicy(pair.Parent, Skew);
            var child = new GrantPolicy(pair.Child, Skew);
            foreach (var (capability, resource, at) in requests)
            {
                if (child.Decide(capability, resource, at).Allowed)
                {
                    Interlocked.Increment(ref childAllowed);
                    if (!parent.Decide(capability, resource, at).Allowed)
                    {
                        return false;
                    }
                }
            }

            return true;
        }, iter: 10_000);

        // Guard against a vacuous pass: enough accepted pairs, and children that actually allowed things.
        Assert.True(accepted > 1_000, $"only {accepted} of 10,000 pairs were within their parent");
        Assert.True(childAllowed > 1_000, $"accepted children allowed only {childAllowed} requests");
    }
}

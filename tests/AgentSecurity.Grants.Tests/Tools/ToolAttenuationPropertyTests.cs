using AgentSecurity.Grants.Capabilities;
using AgentSecurity.Grants.Documents;
using AgentSecurity.Grants.Policy;
using AgentSecurity.Grants.Tools;
using CsCheck;

namespace AgentSecurity.Grants.Tests.Tools;

/// <summary>
/// Delegation of tools is safe: for random parent and child tool terms (patterns, approvals, pins), whenever the child
/// is accepted as within its parent, every tool call the child allows (tool and definition hash) the parent allows too.
/// </summary>
public sealed class ToolAttenuationPropertyTests
{
    private static readonly DateTimeOffset Start = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
    private static readonly string[] Servers = ["fs", "gh", "*", "f*"];
    private static readonly string[] ToolSegments = ["read", "write", "*", "read_*", "*_file", "**", "r*d"];
    private static readonly string[] Tools = ["fs/read", "fs/write", "fs/read_file", "fs/write_file", "gh/read", "gh/read_x", "fx/rd", "ff/read"];
    private static readonly string[] Hashes =
    [
        "sha256:1111111111111111111111111111111111111111111111111111111111111111",
        "sha256:2222222222222222222222222222222222222222222222222222222222222222",
    ];

    private static readonly Gen<string> PatternGen = Gen.Select(Gen.OneOf(Servers), Gen.OneOf(ToolSegments), (s, t) => $"{s}/{t}");

    private static readonly Gen<ToolTerms> ToolTermsGen =
        from tools in PatternGen.Array[0, 3]
        from approve in PatternGen.Array[0, 2]
        from pinned in Gen.OneOf(Tools).Array[0, 2]
        from hash in Gen.OneOf(Hashes)
        select new ToolTerms(tools, approve, pinned.Distinct().ToDictionary(t => t, _ => hash, StringComparer.Ordinal));

    // A child is often its parent with a part redrawn, so that many pairs are within.
    private static readonly Gen<(ToolTerms Parent, ToolTerms Child)> PairGen =
        from parent in ToolTermsGen
        from other in ToolTermsGen
        from keep in Gen.Bool.Array[3]
        select (parent, new ToolTerms(keep[0] ? parent.Patterns : other.Patterns, keep[1] ? parent.Approve : other.Approve, keep[2] ? parent.Pins : other.Pins));

    private static GrantTerms Terms(ToolTerms tools) =>
        new(CapabilitySet.Nothing, GrantScopes.None, ResourceLimits.None, IsolationLevel.Sandboxed, Start, Start.AddHours(1)) { Tools = tools };

    [Fact]
    public void WithinParent_RandomToolTerms_AcceptedChildCallsOnlyWhatParentAllows()
    {
        var accepted = 0;
        var childAllowed = 0;
        PairGen.Sample(pair =>
        {
            if (Attenuation.WithinParent(Terms(pair.Parent), Terms(pair.Child), PlatformLimits.None) is not null)
            {
                return true;
            }

            Interlocked.Increment(ref accepted);
            var parent = new GrantPolicy(Terms(pair.Parent), TimeSpan.Zero);
            var child = new GrantPolicy(Terms(pair.Child), TimeSpan.Zero);
            foreach (var tool in Tools)
            {
                foreach (var hash in Hashes.Append(null))
                {
                    if (child.Decide(CheckKind.ToolCall, tool, Start.AddMinutes(1), hash).Allowed)
                    {
                        Interlocked.Increment(ref childAllowed);
                        if (!parent.Decide(CheckKind.ToolCall, tool, Start.AddMinutes(1), hash).Allowed)
                        {
                            return false;
                        }
                    }
                }
            }

            return true;
        }, iter: 10_000);

        // Guard against a vacuous pass: enough accepted pairs, and children that actually allowed calls.
        Assert.True(accepted > 1_000, $"only {accepted} of 10,000 pairs were within their parent");
        Assert.True(childAllowed > 1_000, $"accepted children allowed only {childAllowed} calls");
    }

    [Fact]
    public void WithinCeiling_RandomToolTerms_AcceptedGrantCallsOnlyToolsTheCeilingCovers()
    {
        var accepted = 0;
        Gen.Select(PatternGen.Array[0, 3], ToolTermsGen).Sample((ceiling, grant) =>
        {
            if (Attenuation.WithinCeiling(CapabilitySet.Nothing, ResourceLimits.None, ceiling, Terms(grant), PlatformLimits.None) is not null)
            {
                return true;
            }

            Interlocked.Increment(ref accepted);
            var bound = new GrantPolicy(Terms(new ToolTerms(ceiling, [], ToolTerms.None.Pins)), TimeSpan.Zero);
            var policy = new GrantPolicy(Terms(grant), TimeSpan.Zero);
            return Tools.All(tool => !policy.Decide(CheckKind.ToolCall, tool, Start.AddMinutes(1), Hashes[0]).Allowed
                || bound.Decide(CheckKind.ToolCall, tool, Start.AddMinutes(1), Hashes[0]).Allowed);
        }, iter: 10_000);

        Assert.True(accepted > 1_000, $"only {accepted} of 10,000 grants were within their ceiling");
    }
}

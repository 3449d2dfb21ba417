using AgentSecurity.Abstractions;
using AgentSecurity.Grants;
using AgentSecurity.Testing;
using Xunit.Abstractions;

namespace AgentSecurity.Grains.Tests.Skew;

/// <summary>
/// Silos whose clocks differ by the configured skew agree on every decision the contract fixes (signed-documents.md:
/// a document may be issued or become valid up to the skew in the future; expiry is exact). A decision is fixed when no
/// clock within half the skew of the true time can change it: grants issued or valid from at most a quarter skew ahead,
/// or two skews ahead; grants expired a skew ago, or expiring a skew from now; staleness, which clocks do not decide.
/// Every case is decided by issuers (grant verification) and agents (checks) on both silos.
/// </summary>
[Collection(SkewedClusterCollection.Name)]
public sealed class ClockSkewTests(SkewedClusterFixture fixture, ITestOutputHelper output)
{
    private static readonly TimeSpan Skew = SkewedClusterFixture.Skew;

    private sealed record Case(string Name, Func<DateTimeOffset, DocumentTemplate, DocumentTemplate> Shape, string? ApplyError, string CheckReason, string CheckReasonTwoSkewsLater);

    [Fact]
    public async Task Decisions_SilosWithClocksOneSkewApart_AgreeWithEachOtherAndTheContract()
    {
        var silos = fixture.Cluster.GetActiveSilos().Select(s => s.SiloAddress).ToList();
        var clocks = silos.Select(s => fixture.ClockOf(s).GetUtcNow()).ToList();
        Assert.Equal(2, silos.Count);
        Assert.Equal(Skew, clocks.Max() - clocks.Min()); // the silos really are one skew apart
        var management = fixture.Cluster.Client.GetGrain<IManagementGrain>(0);

        // Tenants until one tenant's issuer (which verifies grants) is on each silo.
        var tenants = new Dictionary<SiloAddress, string>();
        for (var i = 0; i < 32 && tenants.Count < 2; i++)
        {
            var tenant = $"skew{i}-{Guid.NewGuid():N}"[..20];
            var created = await fixture.Client.CreateTenantAsync(TestDocuments.Tenant(tenant, fixture.Now, TestKeys.Root.Did.Value).SignWith(TestKeys.Operator));
            Assert.True(created.Created, $"{created.Error}: {created.Message}");
            tenants.TryAdd((await management.GetActivationAddress(fixture.Client.Issuer(tenant)))!, tenant);
        }

        Assert.Equal(2, tenants.Count);
        var t = fixture.Now;
        var cases = new Case[]
        {
            new("valid for an hour either side", (_, g) => g.Set("issuedAt", t.AddHours(-1)).Set("expiresAt", t.AddHours(1)), null, ReasonCodes.Allowed, ReasonCodes.Allowed),
            new("issued a quarter skew ahead", (_, g) => g.Set("issuedAt", t + (Skew / 4)).Set("expiresAt", t.AddHours(1)), null, ReasonCodes.Allowed, ReasonCodes.Allowed),
            new("valid from a quarter skew ahead", (_, g) => g.Set("issuedAt", t.AddHours(-1)).Set("notBefore", t + (Skew / 4)).Set("expiresAt", t.AddHours(1)), null, ReasonCodes.Allowed, ReasonCodes.Allowed),
            new("issued two skews ahead", (_, g) => g.Set("issuedAt", t + (2 * Skew)).Set("expiresAt", t.AddHours(1)), ReasonCodes.NotYetValid, ReasonCodes.NoGrant, ReasonCodes.NoGrant),
            new("valid from two skews ahead", (_, g) => g.Set("issuedAt", t.AddHours(-1)).Set("notBefore", t + (2 * Skew)).Set("expiresAt", t.AddHours(1)), ReasonCodes.NotYetValid, ReasonCodes.NoGrant, ReasonCodes.NoGrant),
            new("expired a skew ago", (_, g) => g.Set("issuedAt", t.AddHours(-1)).Set("expiresAt", t - Skew), ReasonCodes.Expired, ReasonCodes.NoGrant, ReasonCodes.NoGrant),
            new("expiring a skew from now", (_, g) => g.Set("issuedAt", t.AddHours(-1)).Set("expiresAt", t + Skew), null, ReasonCodes.Allowed, ReasonCodes.Expired),
        };

        // Every case on agents of both silos, for issuers on both silos: what each answered.
        var answers = new List<(string Case, SiloAddress Issuer, SiloAddress Agent, string Apply, string Check, string Later)>();
        var placed = new List<(string Case, SiloAddress Issuer, SiloAddress Agent, string Tenant, string AgentId)>();
        foreach (var (issuerSilo, tenant) in tenants)
        {
            for (var c = 0; c < cases.Length; c++)
            {
                var covered = new HashSet<SiloAddress>();
                for (var k = 0; k < 32 && covered.Count < 2; k++)
                {
                    var agent = $"c{c}-{k}";
                    var applied = await fixture.Client.ApplyGrantAsync(cases[c].Shape(t, TestDocuments.Grant(tenant, agent, t, $"g-{agent}")).SignWith(TestKeys.Root));
                    // The check activates the agent where an apply the issuer refused did not: only then has it a silo.
                    var check = await fixture.Client.CheckAsync(tenant, agent, new CheckRequest("fileSystem:read", "/workspace/a"));
                    var agentSilo = (await management.GetActivationAddress(fixture.Client.Agent(tenant, agent)))!;
                    if (covered.Add(agentSilo))
                    {
                        answers.Add((cases[c].Name, issuerSilo, agentSilo, applied.Error ?? "applied", check.Reason, string.Empty));
                        placed.Add((cases[c].Name, issuerSilo, agentSilo, tenant, agent));
                    }
                }

                Assert.True(covered.Count == 2, $"{cases[c].Name}: no agent activated on both silos in 32 tries");
            }
        }

        // Two skews later: a grant that expired in the meantime is expired on both silos.
        SkewedClusterFixture.Time.Advance(2 * Skew);
        for (var i = 0; i < placed.Count; i++)
        {
            var check = await fixture.Client.CheckAsync(placed[i].Tenant, placed[i].AgentId, new CheckRequest("fileSystem:read", "/workspace/a"));
            var a = answers[i];
            answers[i] = (a.Case, a.Issuer, a.Agent, a.Apply, a.Check, check.Reason);
        }

        // Staleness is ordered by issuedAt alone: a grant issued before the agent's active one is stale on every silo.
        var stale = new List<(SiloAddress Issuer, SiloAddress Agent, string Answer)>();
        foreach (var (issuerSilo, tenant) in tenants)
        {
            var covered = new HashSet<SiloAddress>();
            for (var k = 0; k < 32 && covered.Count < 2; k++)
            {
                var agent = $"stale-{k}";
                var now = fixture.Now;
                var newer = await fixture.Client.ApplyGrantAsync(TestDocuments.Grant(tenant, agent, now.AddSeconds(-10), $"g-{agent}-newer").SignWith(TestKeys.Root));
                Assert.True(newer.Applied, newer.Message);
                var older = await fixture.Client.ApplyGrantAsync(TestDocuments.Grant(tenant, agent, now.AddSeconds(-20), $"g-{agent}-older").SignWith(TestKeys.Root));
                var agentSilo = (await management.GetActivationAddress(fixture.Client.Agent(tenant, agent)))!;
                if (covered.Add(agentSilo))
                {
                    stale.Add((issuerSilo, agentSilo, older.Error ?? "applied"));
                }
            }
        }

        foreach (var a in answers)
        {
            output.WriteLine($"{a.Case}: issuer on {a.Issuer}, agent on {a.Agent}: apply {a.Apply}, check {a.Check}, two skews later {a.Later}");
        }

        var disagreements = answers.GroupBy(a => a.Case).Count(g => g.Select(a => (a.Apply, a.Check, a.Later)).Distinct().Count() > 1)
            + (stale.Select(s => s.Answer).Distinct().Count() > 1 ? 1 : 0);
        output.WriteLine($"silo clocks {string.Join(" and ", silos.Zip(clocks, (s, c) => $"{s}: {c:O}"))}; {answers.Count + stale.Count} decisions compared, " +
            $"{disagreements} cases on which the silos disagree");
        Assert.Equal(0, disagreements);
        foreach (var c in cases)
        {
            Assert.All(answers.Where(a => a.Case == c.Name), a => Assert.Equal((c.ApplyError ?? "applied", c.CheckReason, c.CheckReasonTwoSkewsLater), (a.Apply, a.Check, a.Later)));
        }

        Assert.Equal(4, stale.Count);
        Assert.All(stale, s => Assert.Equal(ReasonCodes.Stale, s.Answer));
    }
}

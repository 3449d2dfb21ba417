using AgentSecurity.Grains.Issuers;
using AgentSecurity.Grants;
using AgentSecurity.Grants.Documents;
using AgentSecurity.Testing;
using Microsoft.Extensions.Time.Testing;

namespace AgentSecurity.Grains.Tests;

/// <summary>The issuer's records of grants: lineage for revocations, forgetting what expired, and the tenant's capacity.</summary>
public sealed class GrantLedgerTests
{
    private const string Tenant = "acme";

    private readonly FakeTimeProvider _clock = new(TestDocuments.Epoch);

    private DateTimeOffset Now => _clock.GetUtcNow();

    private static AcceptedGrant Accepted(string agent, DateTimeOffset expiresAt, string? parent = null) =>
        new() { AgentId = agent, ExpiresAt = expiresAt, ParentGrantId = parent };

    [Fact]
    public void Descendants_DelegationTree_GrantFirstThenEveryDelegationTransitively()
    {
        var accepted = new Dictionary<string, AcceptedGrant>(StringComparer.Ordinal)
        {
            ["root"] = Accepted("a", Now.AddDays(1)),
            ["child"] = Accepted("b", Now.AddDays(1), parent: "root"),
            ["grandchild"] = Accepted("c", Now.AddDays(1), parent: "child"),
            ["sibling"] = Accepted("d", Now.AddDays(1), parent: "root"),
            ["unrelated"] = Accepted("e", Now.AddDays(1)),
        };

        var revoked = GrantLedger.Descendants(accepted, "root");

        Assert.Equal("root", revoked[0]);
        Assert.Equal(["child", "grandchild", "root", "sibling"], revoked.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void Descendants_GrantNeverAccepted_IsThatGrantAlone()
    {
        Assert.Equal(["leaked"], GrantLedger.Descendants(new Dictionary<string, AcceptedGrant>(), "leaked"));
    }

    [Fact]
    public void Descendants_CycleInStoredLineage_ListsEachGrantOnce()
    {
        var accepted = new Dictionary<string, AcceptedGrant>(StringComparer.Ordinal)
        {
            ["a"] = Accepted("a", Now.AddDays(1), parent: "b"),
            ["b"] = Accepted("b", Now.AddDays(1), parent: "a"),
        };

        Assert.Equal(["a", "b"], GrantLedger.Descendants(accepted, "a"));
    }

    [Fact]
    public void Accept_ExpiredGrantsAndRevocations_ForgottenWithTheWrite()
    {
        var state = new IssuerGrainState();
        state.AcceptedGrants["old"] = Accepted("a", Now.AddHours(1));
        state.AcceptedGrants["live"] = Accepted("b", Now.AddDays(2));
        state.RevokedGrants["old-revoked"] = new RevokedGrant { ExpiresAt = Now.AddHours(1) };
        state.RevokedGrants["ahead"] = new RevokedGrant { ExpiresAt = DateTimeOffset.MaxValue };
        _clock.Advance(TimeSpan.FromHours(1));
        var grant = GrantDocument.Parse(TestDocuments.Grant(Tenant, "bot", Now, "g-new").SignWith(TestKeys.Root)).Value;

        GrantLedger.Accept(state, grant, depth: 2, Now);

        Assert.Equal(["g-new", "live"], state.AcceptedGrants.Keys.Order(StringComparer.Ordinal));
        Assert.Equal(["ahead"], state.RevokedGrants.Keys);
        var entry = state.AcceptedGrants["g-new"];
        Assert.Equal(("bot", grant.Envelope.ContentHash, TestKeys.Root.Did.Value, grant.ExpiresAt, 2), (entry.AgentId, entry.ContentHash, entry.SignedBy, entry.ExpiresAt, entry.Depth));
    }

    [Fact]
    public void Revoke_AcceptedAndUnknownGrants_KeptUntilTheGrantExpiresOrShowsUp()
    {
        var state = new IssuerGrainState();
        state.AcceptedGrants["g-1"] = Accepted("a", Now.AddDays(1));

        GrantLedger.Revoke(state, ["g-1", "never-applied"], "leaked", TestKeys.Root.Did.Value, Now);

        Assert.Equal(Now.AddDays(1), state.RevokedGrants["g-1"].ExpiresAt);
        Assert.Equal(DateTimeOffset.MaxValue, state.RevokedGrants["never-applied"].ExpiresAt);
        Assert.All(state.RevokedGrants.Values, r => Assert.Equal((Now, "leaked", TestKeys.Root.Did.Value), (r.RevokedAt, r.Reason, r.RevokedBy)));
    }

    [Fact]
    public void CapacityFailure_LiveGrantsAtTheBound_IsQuotaExceeded()
    {
        var accepted = new[] { Accepted("a", Now.AddDays(1)), Accepted("b", Now.AddDays(1)) };

        var failure = GrantLedger.CapacityFailure(accepted, "a", Now, maxLiveGrants: 2, maxAgents: 10, Tenant);

        Assert.Equal(new Failure(ReasonCodes.QuotaExceeded, "tenant acme has 2 live grants, the most allowed"), failure);
    }

    [Fact]
    public void CapacityFailure_ExpiredGrants_TakeNoRoom()
    {
        var accepted = new[] { Accepted("a", Now.AddHours(1)), Accepted("b", Now.AddHours(1)) };
        _clock.Advance(TimeSpan.FromHours(1));

        Assert.Null(GrantLedger.CapacityFailure(accepted, "c", Now, maxLiveGrants: 2, maxAgents: 2, Tenant));
    }

    [Fact]
    public void CapacityFailure_NewAgentBeyondMaxAgents_IsQuotaExceededButAnAgentWithAGrantFits()
    {
        var accepted = new[] { Accepted("a", Now.AddDays(1)), Accepted("b", Now.AddDays(1)) };

        var newAgent = GrantLedger.CapacityFailure(accepted, "c", Now, maxLiveGrants: 100, maxAgents: 2, Tenant);
        var knownAgent = GrantLedger.CapacityFailure(accepted, "a", Now, maxLiveGrants: 100, maxAgents: 2, Tenant);

        Assert.Equal(new Failure(ReasonCodes.QuotaExceeded, "tenant acme has 2 agents with grants, the most its limits allow"), newAgent);
        Assert.Null(knownAgent);
    }
}

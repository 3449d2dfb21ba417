using AgentSecurity.Grains.Issuers;
using AgentSecurity.Grants;
using AgentSecurity.Grants.Documents;
using AgentSecurity.Testing;
using Microsoft.Extensions.Time.Testing;

namespace AgentSecurity.Grains.Tests;

/// <summary>Which parents a delegation may take further, judged from the issuer's record of the parent.</summary>
public sealed class GrantVerifierTests
{
    private readonly FakeTimeProvider _clock = new(TestDocuments.Epoch);

    private DateTimeOffset Now => _clock.GetUtcNow();

    private AcceptedGrant Parent(int depth = 1, string? agentDid = null) => new()
    {
        AgentId = "lead",
        ExpiresAt = Now.AddHours(1),
        AgentDid = agentDid ?? TestKeys.Stranger.Did.Value,
        Depth = depth,
    };

    private GrantDocument Delegation() =>
        GrantDocument.Parse(TestDocuments.Grant("acme", "helper", Now, "d-1").Set("parentGrantId", "p-1").SignWith(TestKeys.Stranger)).Value;

    [Fact]
    public void ParentFailure_LiveParentSignedByItsAgent_IsNull()
    {
        Assert.Null(GrantVerifier.ParentFailure(Parent(), "p-1", parentRevoked: false, Delegation(), Now));
    }

    [Fact]
    public void ParentFailure_RevokedParent_IsRevoked()
    {
        Assert.Equal(ReasonCodes.Revoked, GrantVerifier.ParentFailure(Parent(), "p-1", parentRevoked: true, Delegation(), Now)?.Code);
    }

    [Fact]
    public void ParentFailure_ParentPastItsExpiry_IsExpired()
    {
        var parent = Parent();
        var delegation = Delegation();
        _clock.Advance(TimeSpan.FromHours(1));

        Assert.Equal(ReasonCodes.Expired, GrantVerifier.ParentFailure(parent, "p-1", parentRevoked: false, delegation, Now)?.Code);
    }

    [Fact]
    public void ParentFailure_ParentWithoutAgentDid_IsUntrustedSigner()
    {
        var parent = new AcceptedGrant { AgentId = "lead", ExpiresAt = Now.AddHours(1), AgentDid = null, Depth = 1 };

        var failure = GrantVerifier.ParentFailure(parent, "p-1", parentRevoked: false, Delegation(), Now);

        Assert.Equal(new Failure(ReasonCodes.UntrustedSigner, "the parent grant p-1 names no agentDid, so it cannot be delegated"), failure);
    }

    [Fact]
    public void ParentFailure_SignedByOtherThanTheParentsAgent_IsUntrustedSigner()
    {
        var failure = GrantVerifier.ParentFailure(Parent(agentDid: TestKeys.OtherRoot.Did.Value), "p-1", parentRevoked: false, Delegation(), Now);

        Assert.Equal(ReasonCodes.UntrustedSigner, failure?.Code);
    }

    [Fact]
    public void ParentFailure_ParentAtTheDeepestChain_IsChainTooDeep()
    {
        Assert.Null(GrantVerifier.ParentFailure(Parent(depth: GrantVerifier.MaxChainDepth - 1), "p-1", parentRevoked: false, Delegation(), Now));
        Assert.Equal(ReasonCodes.ChainTooDeep, GrantVerifier.ParentFailure(Parent(depth: GrantVerifier.MaxChainDepth), "p-1", parentRevoked: false, Delegation(), Now)?.Code);
    }
}

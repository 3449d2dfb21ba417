using AgentSecurity.Abstractions;
using AgentSecurity.Grains.Permissions;
using AgentSecurity.Grants;
using AgentSecurity.Grants.Documents;
using AgentSecurity.Testing;

namespace AgentSecurity.Grains.Tests.Permissions;

/// <summary>
/// Agents whose grants compile the same share one compiled policy; grants that differ in anything a policy decides
/// from never do, and each agent's own facts (grant id, revocation) stay its own.
/// </summary>
public sealed class SharedPoliciesTests
{
    private static readonly TimeSpan ClockSkew = TimeSpan.FromSeconds(60);

    private static readonly DateTimeOffset Now = TestDocuments.Epoch.AddHours(1);

    // Each test's own tenant: the cache is process-wide, and tests run side by side.
    private static DocumentTemplate Grant(string agent, string grantId) =>
        TestDocuments.Grant($"shared-{Guid.NewGuid():N}"[..20], agent, TestDocuments.Epoch, grantId);

    private static ActiveGrant Compile(DocumentTemplate template, TimeSpan? clockSkew = null) =>
        ActiveGrant.Compile(GrantDocument.Parse(template.SignWith(TestKeys.Root)).Value, clockSkew ?? ClockSkew);

    [Fact]
    public void Compile_TwoAgentsWithTheSameTerms_ShareOnePolicy()
    {
        var first = Compile(Grant("a", "g-a"));
        var second = Compile(Grant("b", "g-b"));

        Assert.Same(first.Policy, second.Policy);
        Assert.Equal("g-a", first.Allowed.GrantId);
        Assert.Equal("g-b", second.Allowed.GrantId);
    }

    [Theory]
    [InlineData("scopes")]
    [InlineData("capabilities")]
    [InlineData("limits")]
    [InlineData("isolation")]
    [InlineData("expiry")]
    [InlineData("tools")]
    [InlineData("clock skew")]
    public void Compile_TermsThatDiffer_NeverShare(string difference)
    {
        var template = Grant("a", "g-a");
        var baseline = Compile(template);
        var other = difference switch
        {
            "scopes" => Compile(template.SetJson("scopes", """{"fileSystem":["/workspace/out/**"],"network":["*.example.com:443"],"memory":["notes/**"]}""")),
            "capabilities" => Compile(template.SetJson("capabilities", """{"fileSystem":"read","network":"outbound","memory":"write","subprocess":false,"vectorDb":false,"llm":true}""")),
            "limits" => Compile(template.SetJson("resourceLimits", """{"checksPerSecond":5}""")),
            "isolation" => Compile(template.Set("environmentIsolation", "native")),
            "expiry" => Compile(template.Set("expiresAt", TestDocuments.Epoch.AddDays(2))),
            "tools" => Compile(TestDocuments.GrantV2("t", "a", TestDocuments.Epoch, ["files/read"], grantId: "g-a")),
            "clock skew" => Compile(template, TimeSpan.FromSeconds(61)),
            _ => throw new ArgumentOutOfRangeException(nameof(difference)),
        };

        Assert.NotSame(baseline.Policy, other.Policy);
    }

    [Fact]
    public void Decide_AgentsWithDifferentScopes_EachDecidesByItsOwn()
    {
        var wide = Compile(Grant("a", "g-a"));
        var narrow = Compile(Grant("b", "g-b").SetJson("scopes", """{"fileSystem":["/workspace/out/**"],"network":["*.example.com:443"],"memory":["notes/**"]}"""));
        var request = new CheckRequest("fileSystem:write", "/workspace/a.txt");

        Assert.True(new AgentPermissions { Active = wide }.Decide(request, Now, "t/a").Allowed);
        Assert.Equal(ReasonCodes.OutOfScope, new AgentPermissions { Active = narrow }.Decide(request, Now, "t/b").Reason);
    }

    [Fact]
    public void Decide_OneOfTwoAgentsSharingAPolicyRevokedOrReplaced_TheOtherIsStillAllowed()
    {
        var first = new AgentPermissions { Active = Compile(Grant("a", "g-a")) };
        var second = new AgentPermissions { Active = Compile(Grant("b", "g-b")) };
        Assert.Same(first.Active.Policy, second.Active!.Policy);
        var request = new CheckRequest("fileSystem:write", "/workspace/a.txt");

        first.MarkRevoked("g-a");
        Assert.Equal(ReasonCodes.Revoked, first.Decide(request, Now, "t/a").Reason);
        Assert.True(second.Decide(request, Now, "t/b").Allowed);

        first.Active = Compile(Grant("a", "g-a2").SetJson("capabilities", """{"fileSystem":"read","network":"outbound","memory":"write","subprocess":false,"vectorDb":false,"llm":true}"""));
        Assert.False(first.Decide(request, Now, "t/a").Allowed);
        Assert.True(second.Decide(request, Now, "t/b").Allowed);
    }

    /// <summary>Sharing compares every member of the terms: one added to them must be added to the comparison too.</summary>
    [Fact]
    public void GrantTerms_Members_AreTheOnesSharingCompares()
    {
        var members = typeof(GrantTerms).GetProperties().Where(p => p.DeclaringType == typeof(GrantTerms) && p.Name != "EqualityContract").Select(p => p.Name).Order(StringComparer.Ordinal);

        Assert.Equal(["Capabilities", "ExpiresAt", "Isolation", "Limits", "NotBefore", "Scopes", "Tools"], members);
    }
}

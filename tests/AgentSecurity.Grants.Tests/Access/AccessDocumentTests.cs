using AgentSecurity.Grants.Access;
using AgentSecurity.Grants.Documents;
using AgentSecurity.Testing;

namespace AgentSecurity.Grants.Tests.Access;

public sealed class AccessDocumentTests
{
    private static readonly DateTimeOffset Now = TestDocuments.Epoch;
    private static readonly string Service = TestKeys.FromByte(0x71).Did.Value;

    [Fact]
    public void Parse_Valid_ReadsRightsAndAgents()
    {
        var text = TestDocuments.Access("acme", Service, Now, "acc-1", "check", "audit")
            .SetJson("agents", """["support-*","bot"]""").SignWith(TestKeys.Root);

        var access = AccessDocument.Parse(text).Value;

        Assert.Equal("acc-1", access.AccessId);
        Assert.Equal("acme", access.TenantId);
        Assert.Equal(Service, access.PrincipalDid.Value);
        Assert.Equal(AccessRights.Check | AccessRights.Audit, access.Allow);
        Assert.True(access.Covers("support-7"));
        Assert.True(access.Covers("bot"));
        Assert.False(access.Covers("bot2"));
        Assert.False(access.Covers(null)); // an agents list never covers the tenant as a whole
        Assert.False(access.ForAllTenants);
    }

    [Fact]
    public void Parse_NoAgents_CoversTheTenantAndEveryAgent()
    {
        var access = AccessDocument.Parse(TestDocuments.Access("*", Service, Now).SignWith(TestKeys.Operator)).Value;

        Assert.True(access.ForAllTenants);
        Assert.True(access.Covers(null));
        Assert.True(access.Covers("any"));
    }

    public static TheoryData<string, string> Invalid => new()
    {
        { "no rights", ReasonCodes.InvalidField },
        { "unknown right", ReasonCodes.InvalidField },
        { "rights not a list", ReasonCodes.InvalidField },
        { "agent not an id", ReasonCodes.InvalidField },
        { "65 agents", ReasonCodes.InvalidField },
        { "bad tenant", ReasonCodes.InvalidField },
        { "principal not a DID", ReasonCodes.InvalidDid },
        { "expires before issued", ReasonCodes.InvalidField },
        { "unknown member", ReasonCodes.UnknownMember },
        { "no accessId", ReasonCodes.InvalidField },
    };

    [Theory]
    [MemberData(nameof(Invalid))]
    public void Parse_Invalid_IsRefusedWithTheCode(string bad, string code)
    {
        var access = TestDocuments.Access("acme", Service, Now);
        var template = bad switch
        {
            "no rights" => access.SetJson("allow", "[]"),
            "unknown right" => access.SetJson("allow", """["check","root"]"""),
            "rights not a list" => access.Set("allow", "check"),
            "agent not an id" => access.SetJson("agents", """["../bot"]"""),
            "65 agents" => access.SetJson("agents", "[" + string.Join(',', Enumerable.Range(0, 65).Select(i => $"\"a{i}\"")) + "]"),
            "bad tenant" => access.Set("tenantId", "ACME/*"),
            "principal not a DID" => access.Set("principalDid", "did:web:example.com"),
            "expires before issued" => access.Set("expiresAt", Now.AddMinutes(-1)),
            "unknown member" => access.Set("role", "admin"),
            _ => access.Remove("accessId"),
        };

        var parsed = AccessDocument.Parse(template.SignWith(TestKeys.Root));

        Assert.Equal(code, parsed.Failure?.Code);
    }
}

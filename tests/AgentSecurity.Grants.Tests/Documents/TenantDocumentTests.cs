using AgentSecurity.Grants.Documents;
using AgentSecurity.Testing;

namespace AgentSecurity.Grants.Tests.Documents;

public sealed class TenantDocumentTests
{
    private static readonly DateTimeOffset Now = TestDocuments.Epoch;

    [Fact]
    public void Parse_Valid_ReadsTenantAndRoots()
    {
        var text = TestDocuments.Tenant("acme", Now, TestKeys.Root.Did.Value, TestKeys.OtherRoot.Did.Value).SignWith(TestKeys.Operator);

        var tenant = TenantDocument.Parse(text).Value;

        Assert.Equal("acme", tenant.TenantId);
        Assert.Equal([TestKeys.Root.Did, TestKeys.OtherRoot.Did], tenant.RootDids);
        Assert.Equal(TestKeys.Operator.Did, tenant.Envelope.SignedBy);
        Assert.True(tenant.Envelope.HasValidSignature());
    }

    [Fact]
    public void Parse_NoRoots_IsInvalidField()
    {
        var text = TestDocuments.Tenant("acme", Now).SignWith(TestKeys.Operator);

        Assert.Equal(ReasonCodes.InvalidField, TenantDocument.Parse(text).Failure?.Code);
    }

    [Fact]
    public void Parse_NineRoots_IsInvalidField()
    {
        var roots = Enumerable.Range(1, 9).Select(i => TestKeys.FromByte((byte)(0x40 + i)).Did.Value).ToArray();
        var text = TestDocuments.Tenant("acme", Now, roots).SignWith(TestKeys.Operator);

        Assert.Equal(ReasonCodes.InvalidField, TenantDocument.Parse(text).Failure?.Code);
    }

    [Fact]
    public void Parse_RepeatedRoot_IsInvalidField()
    {
        var text = TestDocuments.Tenant("acme", Now, TestKeys.Root.Did.Value, TestKeys.Root.Did.Value).SignWith(TestKeys.Operator);

        Assert.Equal(ReasonCodes.InvalidField, TenantDocument.Parse(text).Failure?.Code);
    }

    [Fact]
    public void Parse_BadRootDid_IsInvalidDid()
    {
        var text = TestDocuments.Tenant("acme", Now, "did:key:zNotAKey").SignWith(TestKeys.Operator);

        Assert.Equal(ReasonCodes.InvalidDid, TenantDocument.Parse(text).Failure?.Code);
    }

    [Fact]
    public void Parse_ExtraMember_IsUnknownMember()
    {
        var text = TestDocuments.Tenant("acme", Now, TestKeys.Root.Did.Value).Set("expiresAt", Now.AddDays(1)).SignWith(TestKeys.Operator);

        Assert.Equal(ReasonCodes.UnknownMember, TenantDocument.Parse(text).Failure?.Code);
    }
}

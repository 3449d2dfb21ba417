using AgentSecurity.Abstractions;
using AgentSecurity.Grains.Tests.Infrastructure;
using AgentSecurity.Grants;
using AgentSecurity.Testing;

namespace AgentSecurity.Grains.Tests;

[Collection(ClusterCollection.Name)]
public sealed class GrantIssuerGrainTests(ClusterFixture fixture)
{
    private static string NewTenantId() => "n" + Guid.NewGuid().ToString("N")[..12];

    [Fact]
    public async Task CreateTenantAsync_SignedByOperator_CreatesTenantWithRoots()
    {
        var tenant = NewTenantId();
        var document = TestDocuments.Tenant(tenant, fixture.Now, TestKeys.Root.Did.Value, TestKeys.OtherRoot.Did.Value).SignWith(TestKeys.Operator);

        var result = await fixture.Client.CreateTenantAsync(document);
        var info = await fixture.Client.Issuer(tenant).GetTenantAsync();

        Assert.True(result.Created);
        Assert.False(result.Unchanged);
        Assert.NotNull(info);
        Assert.Equal(new[] { TestKeys.Root.Did.Value, TestKeys.OtherRoot.Did.Value }.Order(StringComparer.Ordinal), info.RootDids);
    }

    [Fact]
    public async Task CreateTenantAsync_SameDocumentTwice_IsIdempotent()
    {
        var document = TestDocuments.Tenant(NewTenantId(), fixture.Now, TestKeys.Root.Did.Value).SignWith(TestKeys.Operator);
        await fixture.Client.CreateTenantAsync(document);

        var again = await fixture.Client.CreateTenantAsync(document);

        Assert.True(again.Created);
        Assert.True(again.Unchanged);
    }

    [Fact]
    public async Task CreateTenantAsync_OtherDocumentForExistingTenant_IsTenantExistsAndRootsUnchanged()
    {
        var tenant = NewTenantId();
        await fixture.Client.CreateTenantAsync(TestDocuments.Tenant(tenant, fixture.Now, TestKeys.Root.Did.Value).SignWith(TestKeys.Operator));

        var takeover = await fixture.Client.CreateTenantAsync(TestDocuments.Tenant(tenant, fixture.Now, TestKeys.Stranger.Did.Value).SignWith(TestKeys.Operator));

        Assert.Equal(ReasonCodes.TenantExists, takeover.Error);
        Assert.Equal([TestKeys.Root.Did.Value], (await fixture.Client.Issuer(tenant).GetTenantAsync())!.RootDids);
    }

    [Fact]
    public async Task CreateTenantAsync_NotSignedByOperator_IsUntrustedSignerAndNothingStored()
    {
        var tenant = NewTenantId();

        var result = await fixture.Client.CreateTenantAsync(TestDocuments.Tenant(tenant, fixture.Now, TestKeys.Stranger.Did.Value).SignWith(TestKeys.Stranger));

        Assert.Equal(ReasonCodes.UntrustedSigner, result.Error);
        Assert.Null(await fixture.Client.Issuer(tenant).GetTenantAsync());
        Assert.False(fixture.Storage.Has("issuer", tenant));
    }

    [Fact]
    public async Task CreateTenantAsync_TamperedOperatorDocument_IsBadSignature()
    {
        var tenant = NewTenantId();
        var document = TestDocuments.Tenant(tenant, fixture.Now, TestKeys.Root.Did.Value).SignWith(TestKeys.Operator)
            .Replace(TestKeys.Root.Did.Value, TestKeys.Stranger.Did.Value, StringComparison.Ordinal);

        Assert.Equal(ReasonCodes.BadSignature, (await fixture.Client.CreateTenantAsync(document)).Error);
    }

    [Fact]
    public async Task CreateTenantAsync_DocumentForAnotherTenant_IsTenantMismatch()
    {
        var document = TestDocuments.Tenant(NewTenantId(), fixture.Now, TestKeys.Root.Did.Value).SignWith(TestKeys.Operator);

        var result = await fixture.Client.Issuer(NewTenantId()).CreateTenantAsync(document);

        Assert.Equal(ReasonCodes.TenantMismatch, result.Error);
    }

    [Fact]
    public async Task CreateTenantAsync_IssuedBeyondClockSkew_IsNotYetValid()
    {
        var document = TestDocuments.Tenant(NewTenantId(), fixture.Now.AddMinutes(5), TestKeys.Root.Did.Value).SignWith(TestKeys.Operator);

        Assert.Equal(ReasonCodes.NotYetValid, (await fixture.Client.CreateTenantAsync(document)).Error);
    }

    [Fact]
    public async Task CreateTenantAsync_GrantDocument_IsUnsupportedType()
    {
        var grant = TestDocuments.Grant(NewTenantId(), "bot", fixture.Now).SignWith(TestKeys.Operator);

        Assert.Equal(ReasonCodes.UnsupportedType, (await fixture.Client.CreateTenantAsync(grant)).Error);
    }

    [Fact]
    public async Task Issuer_AdminSelfRegisteredInStorage_IsNotTrusted()
    {
        var tenant = NewTenantId();
        var state = new Issuers.IssuerGrainState { TenantDocument = TestDocuments.Tenant(tenant, fixture.Now, TestKeys.Root.Did.Value).SignWith(TestKeys.Operator) };
        state.AdminDocuments[TestKeys.Stranger.Did.Value] = TestDocuments.Admin(tenant, TestKeys.Stranger.Did.Value, fixture.Now, TestDocuments.AllCapabilities, fixture.Now.AddDays(30)).SignWith(TestKeys.Stranger);
        fixture.Storage.Tamper("issuer", tenant, System.Text.Json.JsonSerializer.Serialize(state));

        var applied = await fixture.Client.ApplyGrantAsync(TestDocuments.Grant(tenant, "bot", fixture.Now).SignWith(TestKeys.Stranger));

        Assert.False(applied.Applied);
        Assert.Equal(ReasonCodes.UnknownTenant, applied.Error);
    }
}

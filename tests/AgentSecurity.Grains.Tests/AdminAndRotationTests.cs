using AgentSecurity.Grains.Tests.Infrastructure;
using AgentSecurity.Grants;
using AgentSecurity.Grants.Crypto;
using AgentSecurity.Testing;

namespace AgentSecurity.Grains.Tests;

[Collection(ClusterCollection.Name)]
public sealed class AdminAndRotationTests(ClusterFixture fixture)
{
    private static readonly SigningKey Admin = TestKeys.FromByte(0x51);
    private static readonly SigningKey NewRoot = TestKeys.FromByte(0x52);
    private const string ReadAndLlm = """{"fileSystem":"read","network":"none","memory":"none","subprocess":false,"vectorDb":false,"llm":true}""";

    private DateTimeOffset Now => fixture.Now;

    private async Task<string> TenantWithAdminAsync(string? ceilingLimits = null)
    {
        var tenant = await fixture.NewTenantAsync();
        var registered = await fixture.Client.RegisterAdminAsync(
            TestDocuments.Admin(tenant, Admin.Did.Value, Now, ReadAndLlm, Now.AddDays(7), ceilingLimits).SignWith(TestKeys.Root));
        Assert.True(registered.Accepted, $"{registered.Error}: {registered.Message}");
        return tenant;
    }

    private DocumentTemplate WithinCeiling(string tenant, string grantId = "a-1") =>
        TestDocuments.Grant(tenant, "bot", Now, grantId).SetJson("capabilities", ReadAndLlm).Remove("scopes");

    [Fact]
    public async Task AdminGrant_WithinCeiling_IsApplied()
    {
        var tenant = await TenantWithAdminAsync();

        await fixture.ApplyAsync(WithinCeiling(tenant).SignWith(Admin));

        Assert.True((await fixture.CheckAsync(tenant, "bot", "llm")).Allowed);
        Assert.Contains((await fixture.Client.GetTenantAsync(tenant))!.Admins, a => a.AdminDid == Admin.Did.Value);
    }

    [Fact]
    public async Task AdminGrant_OutsideCeiling_IsEscalation()
    {
        var tenant = await TenantWithAdminAsync();

        var result = await fixture.Client.ApplyGrantAsync(WithinCeiling(tenant).SetJson("capabilities", TestDocuments.AllCapabilities).SignWith(Admin));

        Assert.Equal(ReasonCodes.Escalation, result.Error);
    }

    [Fact]
    public async Task AdminGrant_UnlimitedWhereCeilingLimits_IsEscalation()
    {
        var tenant = await TenantWithAdminAsync("""{"checksPerSecond":10}""");

        Assert.Equal(ReasonCodes.Escalation, (await fixture.Client.ApplyGrantAsync(WithinCeiling(tenant).SignWith(Admin))).Error);
        await fixture.ApplyAsync(WithinCeiling(tenant, "a-2").SetJson("resourceLimits", """{"checksPerSecond":10}""").SignWith(Admin));
    }

    /// <summary>A ceiling that sets no execution limits leaves the admin the platform's defaults, not "unlimited".</summary>
    [Fact]
    public async Task AdminGrant_ExecutionLimitsAboveTheDefaultsOfACeilingWithoutLimits_IsEscalation()
    {
        var tenant = await TenantWithAdminAsync();

        var result = await fixture.Client.ApplyGrantAsync(WithinCeiling(tenant).SetJson("resourceLimits", """{"maxCpuMillis":60000,"maxWallMillis":120000}""").SignWith(Admin));

        Assert.Equal(ReasonCodes.Escalation, result.Error);
        Assert.Contains("maxCpuMillis", result.Message, StringComparison.Ordinal);
        await fixture.ApplyAsync(WithinCeiling(tenant, "a-2").SetJson("resourceLimits", """{"maxCpuMillis":1000}""").SignWith(Admin));
    }

    [Fact]
    public async Task AdminGrant_OutlivingTheAdmin_IsEscalation()
    {
        var tenant = await TenantWithAdminAsync();

        Assert.Equal(ReasonCodes.Escalation, (await fixture.Client.ApplyGrantAsync(WithinCeiling(tenant).Set("expiresAt", Now.AddDays(8)).SignWith(Admin))).Error);
    }

    [Fact]
    public async Task AdminGrant_AfterTheAdminExpired_IsUntrustedSigner()
    {
        var tenant = await fixture.NewTenantAsync();
        await fixture.Client.RegisterAdminAsync(TestDocuments.Admin(tenant, Admin.Did.Value, Now, ReadAndLlm, Now.AddMinutes(10)).SignWith(TestKeys.Root));
        var grant = WithinCeiling(tenant).Set("expiresAt", Now.AddMinutes(10)).SignWith(Admin);
        ClusterFixture.Time.Advance(TimeSpan.FromMinutes(10));

        Assert.Equal(ReasonCodes.UntrustedSigner, (await fixture.Client.ApplyGrantAsync(grant)).Error);
    }

    [Fact]
    public async Task RegisterAdmin_SignedByNonRoot_IsUntrustedSigner()
    {
        var tenant = await TenantWithAdminAsync();

        var result = await fixture.Client.RegisterAdminAsync(TestDocuments.Admin(tenant, TestKeys.Stranger.Did.Value, Now, ReadAndLlm, Now.AddDays(1)).SignWith(Admin));

        Assert.Equal(ReasonCodes.UntrustedSigner, result.Error);
    }

    [Fact]
    public async Task RegisterAdmin_OlderRegistrationAfterNewer_IsStale()
    {
        var tenant = await TenantWithAdminAsync();
        ClusterFixture.Time.Advance(TimeSpan.FromSeconds(5));
        var narrower = await fixture.Client.RegisterAdminAsync(TestDocuments.Admin(tenant, Admin.Did.Value, Now, """{"fileSystem":"none","network":"none","memory":"none","subprocess":false,"vectorDb":false,"llm":false}""", Now.AddDays(1)).SignWith(TestKeys.Root));
        Assert.True(narrower.Accepted);

        var older = await fixture.Client.RegisterAdminAsync(TestDocuments.Admin(tenant, Admin.Did.Value, Now.AddSeconds(-5), TestDocuments.AllCapabilities, Now.AddDays(1)).SignWith(TestKeys.Root));

        Assert.Equal(ReasonCodes.Stale, older.Error);
        Assert.Equal(ReasonCodes.Escalation, (await fixture.Client.ApplyGrantAsync(WithinCeiling(tenant).SignWith(Admin))).Error);
    }

    [Fact]
    public async Task AdminRevocation_RevokesAnyGrantOfTheTenant()
    {
        var tenant = await TenantWithAdminAsync();
        await fixture.ApplyAsync(TestDocuments.Grant(tenant, "bot", Now, "root-granted").SignWith(TestKeys.Root));

        var result = await fixture.Client.RevokeAsync(TestDocuments.Revocation(tenant, "root-granted", Now).SignWith(Admin));

        Assert.True(result.Revoked);
    }

    [Fact]
    public async Task Rotation_ByOldRoot_NewRootSignsAndOldRootStops()
    {
        var tenant = await fixture.NewTenantAsync();
        var earlier = TestDocuments.Grant(tenant, "bot", Now, "before-rotation").SignWith(TestKeys.Root);
        await fixture.ApplyAsync(earlier);
        var unapplied = TestDocuments.Grant(tenant, "late", Now, "signed-before-applied-after").SignWith(TestKeys.Root);

        var rotated = await fixture.Client.RotateRootAsync(TestDocuments.Rotation(tenant, TestKeys.Root.Did.Value, NewRoot.Did.Value, Now).SignWith(TestKeys.Root));

        Assert.True(rotated.Accepted, $"{rotated.Error}: {rotated.Message}");
        await fixture.ApplyAsync(TestDocuments.Grant(tenant, "fresh", Now, "after-rotation").SignWith(NewRoot));
        Assert.Equal(ReasonCodes.UntrustedSigner, (await fixture.Client.ApplyGrantAsync(TestDocuments.Grant(tenant, "other", Now, "old-root-new-grant").SignWith(TestKeys.Root))).Error);
        Assert.Equal(ReasonCodes.UntrustedSigner, (await fixture.Client.ApplyGrantAsync(unapplied)).Error);
        // What the old root signed and the tenant accepted stays valid, and re-applying it is still idempotent.
        Assert.True((await fixture.CheckAsync(tenant, "bot", "llm")).Allowed);
        Assert.True((await fixture.Client.ApplyGrantAsync(earlier)).Unchanged);
        var info = await fixture.Client.GetTenantAsync(tenant);
        Assert.Equal([NewRoot.Did.Value], info!.RootDids);
        Assert.Equal([TestKeys.Root.Did.Value], info.RetiredRootDids);
    }

    [Fact]
    public async Task Rotation_SignedByNonRoot_IsUntrustedSigner()
    {
        var tenant = await fixture.NewTenantAsync();

        var byStranger = await fixture.Client.RotateRootAsync(TestDocuments.Rotation(tenant, TestKeys.Root.Did.Value, NewRoot.Did.Value, Now).SignWith(TestKeys.Stranger));
        var strangerAsOld = await fixture.Client.RotateRootAsync(TestDocuments.Rotation(tenant, TestKeys.Stranger.Did.Value, NewRoot.Did.Value, Now).SignWith(TestKeys.Stranger));

        Assert.Equal(ReasonCodes.UntrustedSigner, byStranger.Error);
        Assert.Equal(ReasonCodes.UntrustedSigner, strangerAsOld.Error);
        Assert.Equal([TestKeys.Root.Did.Value], (await fixture.Client.GetTenantAsync(tenant))!.RootDids);
    }

    [Fact]
    public async Task Rotation_ReplayedAndReverse_AreUnchangedAndUntrusted()
    {
        var tenant = await fixture.NewTenantAsync();
        var rotation = TestDocuments.Rotation(tenant, TestKeys.Root.Did.Value, NewRoot.Did.Value, Now).SignWith(TestKeys.Root);
        await fixture.Client.RotateRootAsync(rotation);

        Assert.True((await fixture.Client.RotateRootAsync(rotation)).Unchanged);
        Assert.Equal(ReasonCodes.InvalidField, (await fixture.Client.RotateRootAsync(TestDocuments.Rotation(tenant, NewRoot.Did.Value, TestKeys.Root.Did.Value, Now).SignWith(NewRoot))).Error);
    }

    [Fact]
    public async Task Rotation_SurvivesIssuerReactivation()
    {
        var tenant = await fixture.NewTenantAsync();
        await fixture.Client.RotateRootAsync(TestDocuments.Rotation(tenant, TestKeys.Root.Did.Value, NewRoot.Did.Value, Now).SignWith(TestKeys.Root));

        await fixture.DeactivateAllAsync();

        await fixture.ApplyAsync(TestDocuments.Grant(tenant, "bot", Now, "x").SignWith(NewRoot));
        Assert.Equal(ReasonCodes.UntrustedSigner, (await fixture.Client.ApplyGrantAsync(TestDocuments.Grant(tenant, "bot2", Now, "y").SignWith(TestKeys.Root))).Error);
    }
}

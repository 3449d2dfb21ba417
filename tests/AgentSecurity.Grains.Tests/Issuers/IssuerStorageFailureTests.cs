using AgentSecurity.Abstractions.Kernel;
using AgentSecurity.Abstractions;
using AgentSecurity.Grains.Tests.Infrastructure;
using AgentSecurity.Grants;
using AgentSecurity.Testing;

namespace AgentSecurity.Grains.Tests;

/// <summary>A change the issuer cannot store is refused as unavailable and leaves nothing of itself behind.</summary>
[Collection(ClusterCollection.Name)]
public sealed class IssuerStorageFailureTests(ClusterFixture fixture)
{
    private DateTimeOffset Now => fixture.Now;

    [Fact]
    public async Task RegisterAdminAsync_StorageFails_IsUnavailableAndNoAdminRegistered()
    {
        var tenant = await fixture.NewTenantAsync();
        var issuer = fixture.Client.Issuer(tenant);
        fixture.Storage.FailWritesOf(tenant);

        var result = await issuer.RegisterAdminAsync(
            TestDocuments.Admin(tenant, TestKeys.FromByte(0x53).Did.Value, Now, TestDocuments.ReadOnlyFiles, Now.AddDays(7)).SignWith(TestKeys.Root));

        Assert.Equal((ReasonCodes.Unavailable, "the admin could not be stored"), (result.Error, result.Message));
        var info = await issuer.GetTenantAsync();
        Assert.NotNull(info);
        Assert.Empty(info.Admins);
    }

    [Fact]
    public async Task VerifyElevationAsync_StorageFails_IsUnavailableAndRequestStaysOpen()
    {
        var tenant = await fixture.NewTenantAsync();
        var request = await fixture.Client.RequestPermissionAsync(tenant, "bot", new PermissionRequestInput { Capability = "llm", Justification = "summarize" });
        Assert.True(request.Recorded, $"{request.Error}: {request.Message}");
        using var kernel = fixture.AsKernel(); // the agent's own call to its issuer
        var issuer = fixture.Cluster.Client.GetGrain<IIssuerKernelGrain>(tenant);
        fixture.Storage.FailWritesOf(tenant);
        var answer = TestDocuments.Grant(tenant, "bot", Now, "elev-1")
            .SetJson("capabilities", """{"fileSystem":"none","network":"none","memory":"none","subprocess":false,"vectorDb":false,"llm":true}""")
            .Remove("scopes")
            .Set("expiresAt", Now.AddHours(1));

        var verification = await issuer.VerifyElevationAsync(request.RequestId ?? string.Empty, answer.SignWith(TestKeys.Root));

        Assert.Equal((ReasonCodes.Unavailable, "the issuer could not record the grant"), (verification.Error, verification.Message));
        var listed = Assert.Single(await issuer.ListRequestsAsync());
        Assert.Equal((PermissionRequestStatus.Pending, (string?)null), (listed.Status, listed.GrantId));
    }
}

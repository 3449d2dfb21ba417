using AgentSecurity.Abstractions;
using AgentSecurity.Grains.Tests.Infrastructure;
using AgentSecurity.Grants;
using AgentSecurity.Testing;

namespace AgentSecurity.Grains.Tests.Permissions;

/// <summary>
/// Two tenants whose agents hold equal grants (same terms, same validity window) share one compiled policy on a silo
/// (<see cref="Grains.Permissions.SharedPolicies"/>). Through the cluster, as tenants use it: nothing that happens to one
/// agent (its rate limit used up, its grant revoked or replaced, its quarantine) changes the other's decisions.
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class SharedPolicyIsolationTests(ClusterFixture fixture)
{
    private const string Limits = """{"networkRequestsPerMinute":2}""";

    private Task<Decision> CheckAsync(string tenant, string capability, string resource) =>
        fixture.CheckAsync(tenant, "bot", capability, resource);

    private async Task AssertBothAsync(string tenant, string capability, string resource, string reason)
    {
        var decision = await CheckAsync(tenant, capability, resource);
        Assert.True(reason == decision.Reason, $"{tenant} {capability} {resource}: expected {reason}, got {decision.Reason}");
    }

    [Fact]
    public async Task Check_TwoTenantsWithEqualGrants_WhatHappensToOneNeverChangesTheOthersDecisions()
    {
        var (a, b) = (await fixture.NewTenantAsync(), await fixture.NewTenantAsync());
        foreach (var tenant in new[] { a, b })
        {
            await fixture.ApplyAsync(TestDocuments.Grant(tenant, "bot", fixture.Now).SetJson("resourceLimits", Limits).SignWith(TestKeys.Root));
        }

        // A uses up its rate limit: B still has all of its own.
        await AssertBothAsync(a, "network:outbound", "api.example.com:443", ReasonCodes.Allowed);
        await AssertBothAsync(a, "network:outbound", "api.example.com:443", ReasonCodes.Allowed);
        await AssertBothAsync(a, "network:outbound", "api.example.com:443", ReasonCodes.QuotaExceeded);
        await AssertBothAsync(b, "network:outbound", "api.example.com:443", ReasonCodes.Allowed);
        await AssertBothAsync(b, "network:outbound", "api.example.com:443", ReasonCodes.Allowed);

        // A's grant revoked: B's equal grant stands.
        var revoked = await fixture.Client.RevokeAsync(TestDocuments.Revocation(a, "g-1", fixture.Now).SignWith(TestKeys.Root));
        Assert.True(revoked.Revoked, $"{revoked.Error}: {revoked.Message}");
        await AssertBothAsync(a, "fileSystem:read", "/workspace/notes.md", ReasonCodes.Revoked);
        await AssertBothAsync(b, "fileSystem:read", "/workspace/notes.md", ReasonCodes.Allowed);

        // A gets a narrower grant: B still decides by the scope of its own.
        await fixture.ApplyAsync(TestDocuments.Grant(a, "bot", fixture.Now, "g-2")
            .SetJson("resourceLimits", Limits)
            .SetJson("scopes", """{"fileSystem":["/workspace/only/**"],"network":["*.example.com:443"],"memory":["notes/**"]}""")
            .SignWith(TestKeys.Root));
        await AssertBothAsync(a, "fileSystem:read", "/workspace/notes.md", ReasonCodes.OutOfScope);
        await AssertBothAsync(a, "fileSystem:read", "/workspace/only/notes.md", ReasonCodes.Allowed);
        await AssertBothAsync(b, "fileSystem:read", "/workspace/notes.md", ReasonCodes.Allowed);

        // B quarantined: A goes on.
        var quarantined = await fixture.Client.QuarantineAsync(TestDocuments.Quarantine(b, "bot", fixture.Now).SignWith(TestKeys.Root));
        Assert.True(quarantined.Accepted, $"{quarantined.Error}: {quarantined.Message}");
        await AssertBothAsync(b, "fileSystem:read", "/workspace/notes.md", ReasonCodes.Quarantined);
        await AssertBothAsync(a, "fileSystem:read", "/workspace/only/notes.md", ReasonCodes.Allowed);
    }
}

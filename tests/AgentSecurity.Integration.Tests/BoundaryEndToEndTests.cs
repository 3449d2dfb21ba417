using AgentSecurity.Abstractions;
using AgentSecurity.Abstractions.Audit;
using AgentSecurity.Abstractions.Boundary;
using AgentSecurity.Abstractions.Kernel;
using AgentSecurity.Grants;
using AgentSecurity.Grants.Crypto;
using AgentSecurity.Integration.Tests.Infrastructure;
using AgentSecurity.Testing;

namespace AgentSecurity.Integration.Tests;

/// <summary>
/// The trust boundary on a real silo process over Azurite: what a platform service given access to tenant B can do to
/// tenant A (nothing), what an agent's own DID may do, and that the kernel's own methods are closed to every client.
/// </summary>
[Collection(ClusterProcessCollection.Name)]
public sealed class BoundaryEndToEndTests(ClusterProcessFixture cluster)
{
    /// <summary>Tenants A and B, each with agent "bot" (llm, memory under notes/), and a service key with every right in B.</summary>
    private async Task<(string A, string B, string ServiceKey, string RootKey)> TenantsAsync()
    {
        var suffix = Guid.NewGuid().ToString("N")[..8];
        var (a, b) = ($"ta-{suffix}", $"tb-{suffix}");
        var (rootKey, root) = await KeyAsync($"{suffix}-root");
        var (serviceKey, service) = await KeyAsync($"{suffix}-service");
        foreach (var tenant in new[] { a, b })
        {
            await cluster.CreateTenantAsync(tenant, root);
            var grant = cluster.PathOf($"{tenant}.json");
            await cluster.AgentsecAsync("grant", "sign", "--key", rootKey, "--tenant", tenant, "--agent", "bot", "--llm", "--memory", "write", "--scope", "memory=notes/**", "--out", grant);
            await cluster.ApplyGrantFileAsync(grant);
        }

        var access = cluster.PathOf($"{suffix}-access.json");
        var signed = await cluster.AgentsecAsync("access", "grant", "--key", rootKey, "--tenant", b, "--principal", service,
            "--allow", "check,execute,memory,apply,audit,requests", "--expires-in", "1h", "--out", access, "--json");
        Assert.True(signed.ExitCode == 0, signed.ToString());
        var applied = await cluster.AgentsecAsync("access", "apply", access, "--json");
        Assert.True(applied.ExitCode == 0, applied.ToString());
        Assert.Equal(service, applied.Field("principalDid"));
        return (a, b, serviceKey, rootKey);
    }

    [Fact]
    public async Task ServiceOfTenantB_TriesEachOfTenantAsMethods_AndIsForbiddenEveryTime()
    {
        var (a, b, serviceKey, _) = await TenantsAsync();
        var code = cluster.PathOf($"{a}.js");
        await File.WriteAllTextAsync(code, "1 + 1");

        Assert.Equal(0, (await cluster.AgentsecAsync("check", $"{b}/bot", "llm", "--as", serviceKey)).ExitCode); // its own tenant

        string[][] attempts =
        [
            ["check", $"{a}/bot", "llm"],
            ["status", $"{a}/bot"],
            ["run", $"{a}/bot", "--runtime", "js", code],
            ["memory", "get", $"{a}/bot", "notes/x"],
            ["memory", "put", $"{a}/bot", "notes/x", "forged"],
            ["audit", "tail", a],
            ["request", $"{a}/bot", "llm", "--justification", "more"],
            ["requests", "list", a],
            ["tenant", "show", a],
        ];
        foreach (var attempt in attempts)
        {
            var refused = await cluster.AgentsecAsync([.. attempt, "--as", serviceKey, "--json"]);
            Assert.True(refused.ExitCode == 1 && refused.Field(refused.Json.TryGetProperty("reason", out _) ? "reason" : "error") == ReasonCodes.Forbidden,
                $"{string.Join(' ', attempt)}: {refused}");
        }

    }

    [Fact]
    public async Task Agentsec_WithoutAKey_IsUnauthenticatedAndExitsTwo()
    {
        var (a, _, _, _) = await TenantsAsync();
        var noKey = new Dictionary<string, string> { ["AGENTSEC_KEY"] = "", ["AGENTSEC_OPERATOR_KEY"] = "", ["AGENTSEC_REPOSITORY"] = "" };

        var refused = await cluster.RunAsync("dotnet", [BuiltArtifacts.Cli, "check", $"{a}/bot", "llm", "--json"], noKey);

        Assert.Equal(2, refused.ExitCode);
        Assert.Equal(ReasonCodes.Unauthenticated, refused.Field("error"));
    }

    [Fact]
    public async Task TypedClientOfTenantBsService_CannotSubscribeToTenantA_NorAppendOrQuarantineAnywhere()
    {
        var (a, b, serviceKey, _) = await TenantsAsync();
        var service = SigningKey.FromKeyFileJson(await File.ReadAllBytesAsync(serviceKey)).Value;
        await using var host = await OrleansClientHost.StartAsync(cluster.Gateway, cluster.ClusterId, service, cluster.ClientTls);

        var subscribe = await Assert.ThrowsAsync<CallRefusedException>(() => host.Client.SubscribeAsync(a, _ => Task.CompletedTask));
        Assert.Equal(ReasonCodes.Forbidden, subscribe.Code);
        await using (await host.Client.SubscribeAsync(b, _ => Task.CompletedTask))
        {
        }

        var append = await Assert.ThrowsAsync<CallRefusedException>(() => host.Grains.GetGrain<IAuditKernelGrain>(b).AppendAsync([Forged(b)]));
        Assert.Equal(ReasonCodes.Forbidden, append.Code);
        var quarantine = await Assert.ThrowsAsync<CallRefusedException>(() => host.Grains.GetGrain<IAgentKernelGrain>($"{b}/bot").QuarantineByRuleAsync("forged", "no rule"));
        Assert.Equal(ReasonCodes.Forbidden, quarantine.Code);

        // Not even the operator may call them: they are the kernel's own.
        await using var operatorHost = await cluster.ConnectClientAsync();
        Assert.Equal(ReasonCodes.Forbidden, (await Assert.ThrowsAsync<CallRefusedException>(() => operatorHost.Grains.GetGrain<IAuditKernelGrain>(b).AppendAsync([Forged(b)]))).Code);
        Assert.Equal(AgentState.Active, (await operatorHost.Client.GetStatusAsync(b, "bot")).State);
        var tail = await cluster.AgentsecAsync("audit", "tail", b, "--json");
        Assert.DoesNotContain("forged", tail.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AgentDid_ChecksOnlyItself()
    {
        var (a, _, _, rootKey) = await TenantsAsync();
        var (agentKey, agentDid) = await KeyAsync($"{a}-agent");
        var grant = cluster.PathOf($"{a}-self.json");
        await cluster.AgentsecAsync("grant", "sign", "--key", rootKey, "--tenant", a, "--agent", "self", "--llm", "--agent-did", agentDid, "--out", grant);
        await cluster.ApplyGrantFileAsync(grant);

        Assert.Equal(0, (await cluster.AgentsecAsync("check", $"{a}/self", "llm", "--as", agentKey)).ExitCode);
        Assert.Equal(ReasonCodes.Forbidden, (await cluster.AgentsecAsync("check", $"{a}/bot", "llm", "--as", agentKey, "--json")).Field("reason"));
        Assert.Equal(ReasonCodes.Forbidden, (await cluster.AgentsecAsync("memory", "get", $"{a}/self", "notes/x", "--as", agentKey, "--json")).Field("error"));
    }

    private static DecisionEvent Forged(string tenant) => new()
    {
        Id = $"forged-{Guid.NewGuid():N}",
        Type = SecurityEventTypes.CheckDenied,
        TenantId = tenant,
        AgentId = "bot",
        Capability = "llm",
        Reason = ReasonCodes.OutOfScope,
        Message = "forged",
    };

    private async Task<(string File, string Did)> KeyAsync(string name)
    {
        var file = cluster.PathOf($"{name}.key");
        return (file, (await cluster.AgentsecAsync("key", "new", "--out", file, "--json")).Field("did"));
    }
}

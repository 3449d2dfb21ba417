using System.Text.Json;
using AgentSecurity.Grants;
using AgentSecurity.Integration.Tests.Infrastructure;

namespace AgentSecurity.Integration.Tests;

/// <summary>The built <c>agentsec</c> against a running silo process on Azurite, as a user drives it.</summary>
[Collection(ClusterProcessCollection.Name)]
public sealed class CommandLineEndToEndTests(ClusterProcessFixture cluster)
{
    private static string Tenant() => "e2e-" + Guid.NewGuid().ToString("N")[..10];

    [Fact]
    public async Task Agentsec_FullFlow_SignApplyAndCheckWithContractShapes()
    {
        var tenant = Tenant();
        var rootKey = cluster.PathOf($"{tenant}-root.key");

        var key = await cluster.AgentsecAsync("key", "new", "--out", rootKey, "--json");
        Assert.Equal(0, key.ExitCode);
        var root = key.Field("did");
        Assert.StartsWith("did:key:z6Mk", root, StringComparison.Ordinal);
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(rootKey));
        }

        var inspect = await cluster.AgentsecAsync("did", "inspect", root, "--json");
        Assert.Equal(64, inspect.Field("publicKey").Length);

        var created = await cluster.AgentsecAsync("tenant", "create", tenant, "--root", root, "--operator-key", cluster.OperatorKeyFile, "--json");
        Assert.True(created.ExitCode == 0, created.ToString());
        Assert.Equal(tenant, created.Field("tenantId"));

        var grantFile = cluster.PathOf($"{tenant}.grant.json");
        var signed = await cluster.AgentsecAsync("grant", "sign", "--key", rootKey, "--tenant", tenant, "--agent", "bot",
            "--fs", "write", "--scope", "fileSystem=/workspace/**", "--net", "outbound", "--scope", "network=*.example.com:443",
            "--llm", "--limit", "checksPerSecond=100", "--expires-in", "2h", "--grant-id", "g-e2e", "--out", grantFile, "--json");
        Assert.True(signed.ExitCode == 0, signed.ToString());
        Assert.Equal("agentsec.grant.v1", signed.Field("type"));
        Assert.Equal(root, signed.Field("signedBy"));

        var verified = await cluster.AgentsecAsync("grant", "verify", grantFile, "--trusted", root, "--json");
        Assert.True(verified.ExitCode == 0, verified.ToString());
        Assert.True(verified.Json.GetProperty("valid").GetBoolean());
        Assert.Equal("g-e2e", verified.Field("grantId"));
        Assert.Equal(root, verified.Field("signedBy"));

        var applied = await cluster.AgentsecAsync("grant", "apply", grantFile, "--json");
        Assert.True(applied.ExitCode == 0, applied.ToString());
        Assert.True(applied.Json.GetProperty("applied").GetBoolean());
        Assert.Equal($"{tenant}/bot", applied.Field("agent"));
        Assert.Equal("g-e2e", applied.Field("grantId"));
        Assert.Equal(1, applied.Json.GetProperty("version").GetInt64());

        var allowed = await cluster.AgentsecAsync("check", $"{tenant}/bot", "fileSystem:write", "--resource", "/workspace/out.txt", "--json");
        Assert.Equal(0, allowed.ExitCode);
        AssertDecisionShape(allowed.Json, true, ReasonCodes.Allowed);
        Assert.Equal("g-e2e", allowed.Field("grantId"));

        var denied = await cluster.AgentsecAsync("check", $"{tenant}/bot", "fileSystem:read", "--resource", "/etc/shadow", "--json");
        Assert.Equal(1, denied.ExitCode);
        AssertDecisionShape(denied.Json, false, ReasonCodes.OutOfScope);

        var noGrant = await cluster.AgentsecAsync("check", $"{tenant}/ghost", "llm", "--json");
        Assert.Equal(1, noGrant.ExitCode);
        AssertDecisionShape(noGrant.Json, false, ReasonCodes.NoGrant);

        var human = await cluster.AgentsecAsync("check", $"{tenant}/bot", "subprocess");
        Assert.Equal(1, human.ExitCode);
        Assert.Contains("DENIED capability_not_granted", human.Stdout, StringComparison.Ordinal);

        var status = await cluster.AgentsecAsync("status", $"{tenant}/bot", "--json");
        Assert.Equal("g-e2e", status.Field("grantId"));
        Assert.Equal("active", status.Field("state"));
    }

    [Fact]
    public async Task AgentsecBenchChecks_AgainstTheSilo_ReportsRatesAndEachSidesCpuPerCall()
    {
        var bench = await cluster.RunAsync("dotnet",
            [BuiltArtifacts.Cli, "bench", "checks", "--agents", "4", "--concurrency", "8", "--seconds", "3", "--operator-key", cluster.OperatorKeyFile, "--json"],
            new Dictionary<string, string> { ["AGENTSEC_BENCH_SILO_PID"] = cluster.Silo.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture) });

        Assert.True(bench.ExitCode == 0, bench.ToString());
        Assert.Equal(0, bench.Json.GetProperty("denied").GetInt64());
        Assert.True(bench.Json.GetProperty("checksPerSecond").GetDouble() > 0, bench.Stdout);
        Assert.True(bench.Json.GetProperty("baselineCallsPerSecond").GetDouble() > 0, bench.Stdout);
        // Each side used CPU for each kind of call; the silo's figures come from the process the variable named.
        foreach (var figure in new[] { "clientCpuMicrosPerCheck", "clientCpuMicrosPerBaselineCall", "clientCpuMicrosPerLimitedCheck",
                     "siloCpuMicrosPerCheck", "siloCpuMicrosPerBaselineCall", "siloCpuMicrosPerLimitedCheck" })
        {
            Assert.True(bench.Json.GetProperty(figure).GetDouble() > 0, $"{figure}: {bench.Stdout}");
        }

        var withoutSilo = await cluster.AgentsecAsync("bench", "checks", "--agents", "2", "--concurrency", "2", "--seconds", "2", "--operator-key", cluster.OperatorKeyFile, "--json");
        Assert.True(withoutSilo.ExitCode == 0, withoutSilo.ToString());
        Assert.Equal(JsonValueKind.Null, withoutSilo.Json.GetProperty("siloCpuMicrosPerCheck").ValueKind);
        Assert.True(withoutSilo.Json.GetProperty("clientCpuMicrosPerCheck").GetDouble() > 0, withoutSilo.Stdout);
    }

    [Fact]
    public async Task Agentsec_TamperedGrantFile_IsRefusedWithExit1AndCode()
    {
        var (tenant, rootKey) = await NewTenantAsync();
        var grantFile = cluster.PathOf($"{tenant}.grant.json");
        await cluster.AgentsecAsync("grant", "sign", "--key", rootKey, "--tenant", tenant, "--agent", "bot", "--fs", "read", "--out", grantFile);
        var tampered = cluster.PathOf($"{tenant}.tampered.json");
        File.WriteAllText(tampered, File.ReadAllText(grantFile).Replace("\"fileSystem\":\"read\"", "\"fileSystem\":\"full\"", StringComparison.Ordinal));

        var verify = await cluster.AgentsecAsync("grant", "verify", tampered, "--json");
        var apply = await cluster.AgentsecAsync("grant", "apply", tampered, "--json");

        Assert.Equal(1, verify.ExitCode);
        Assert.False(verify.Json.GetProperty("valid").GetBoolean());
        Assert.Equal(ReasonCodes.BadSignature, verify.Field("error"));
        Assert.Equal(1, apply.ExitCode);
        Assert.Equal(ReasonCodes.BadSignature, apply.Field("error"));
        Assert.False(string.IsNullOrEmpty(apply.Field("message")));
    }

    [Fact]
    public async Task Agentsec_Errors_UseTheContractExitCodes()
    {
        var unreachable = await cluster.AgentsecAsync("check", "acme/bot", "llm", "--gateway", "127.0.0.1:1", "--json");
        Assert.Equal(3, unreachable.ExitCode);
        Assert.Equal(ReasonCodes.Unavailable, unreachable.Field("error"));

        var usage = await cluster.AgentsecAsync("check", "not-an-agent", "llm", "--json");
        Assert.Equal(2, usage.ExitCode);
        Assert.Equal("usage", usage.Field("error"));

        var unknownOption = await cluster.AgentsecAsync("grant", "sign", "--frobnicate", "--json");
        Assert.Equal(2, unknownOption.ExitCode);

        var missingFile = await cluster.AgentsecAsync("grant", "apply", cluster.PathOf("no-such-file.json"), "--json");
        Assert.Equal(2, missingFile.ExitCode);

        var (tenant, _) = await NewTenantAsync();
        var strangerKey = cluster.PathOf($"{tenant}-stranger.key");
        await cluster.AgentsecAsync("key", "new", "--out", strangerKey);
        var notOperator = await cluster.AgentsecAsync("tenant", "create", tenant + "x", "--root", "did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp", "--operator-key", strangerKey, "--json");
        Assert.Equal(1, notOperator.ExitCode);
        Assert.Equal(ReasonCodes.UntrustedSigner, notOperator.Field("error"));
    }

    private async Task<(string Tenant, string RootKeyFile)> NewTenantAsync()
    {
        var tenant = Tenant();
        var rootKey = cluster.PathOf($"{tenant}-root.key");
        var root = (await cluster.AgentsecAsync("key", "new", "--out", rootKey, "--json")).Field("did");
        var created = await cluster.AgentsecAsync("tenant", "create", tenant, "--root", root, "--operator-key", cluster.OperatorKeyFile, "--json");
        Assert.True(created.ExitCode == 0, created.ToString());
        return (tenant, rootKey);
    }

    private static void AssertDecisionShape(JsonElement decision, bool allowed, string reason)
    {
        Assert.Equal(allowed, decision.GetProperty("allowed").GetBoolean());
        Assert.Equal(reason, decision.GetProperty("reason").GetString());
        Assert.False(string.IsNullOrEmpty(decision.GetProperty("message").GetString()));
        Assert.True(decision.TryGetProperty("grantId", out _));
        Assert.True(decision.TryGetProperty("remaining", out _));
    }
}

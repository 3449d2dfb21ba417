using System.Text.Json;
using AgentSecurity.Abstractions;
using AgentSecurity.Grants;
using AgentSecurity.Integration.Tests.Infrastructure;
using AgentSecurity.Testing;

namespace AgentSecurity.Integration.Tests;

/// <summary>
/// A grant signed outside this project (Node's Ed25519 and a JCS written from the contract, tests/interop) verifies
/// and applies; every tampered variant is refused with its code.
/// </summary>
[Collection(ClusterProcessCollection.Name)]
public sealed class InteropSignerTests(ClusterProcessFixture cluster)
{
    private const string Seed = "7f3c2a9e1d4b8f6a0c5e2d7b9a1f3e8c4d6b0a2f9e7c5d3b1a8f6e4c2d0b9a7f";

    [Fact]
    public async Task NodeSignedGrant_VerifiesAppliesAndDecides()
    {
        var tenant = "interop-" + Guid.NewGuid().ToString("N")[..10];
        var (did, grant) = await SignWithNodeAsync(tenant, "g-node-1");
        await cluster.CreateTenantAsync(tenant, did);
        var file = Write($"{tenant}.json", grant);

        var verified = await cluster.AgentsecAsync("grant", "verify", file, "--trusted", did, "--json");
        var applied = await cluster.AgentsecAsync("grant", "apply", file, "--json");

        Assert.True(verified.ExitCode == 0, verified.ToString());
        Assert.True(applied.ExitCode == 0, applied.ToString());
        Assert.Equal(0, (await cluster.AgentsecAsync("check", $"{tenant}/bot", "network:outbound", "--resource", "api.example.org:443")).ExitCode);
        Assert.Equal(1, (await cluster.AgentsecAsync("check", $"{tenant}/bot", "network:outbound", "--resource", "api.example.com:443")).ExitCode);
    }

    [Fact]
    public async Task NodeSignedGrantV2_VerifiesAppliesAndDecidesTools()
    {
        const string Pin = "sha256:1d8b2b6ca5e1073726f4f41ba61ac8c888d2867157d6cf12547c55051c7f482a";
        var tenant = "interop-" + Guid.NewGuid().ToString("N")[..10];
        var (did, grant) = await SignWithNodeAsync(tenant, "g-node-v2", "v2");
        await cluster.CreateTenantAsync(tenant, did);
        var file = Write($"{tenant}.json", grant);

        var applied = await cluster.AgentsecAsync("grant", "apply", file, "--json");
        Assert.True(applied.ExitCode == 0, applied.ToString());

        async Task<string> ReasonAsync(params string[] args) => (await cluster.AgentsecAsync(["check", $"{tenant}/bot", "tool:call", .. args, "--json"])).Field("reason");
        Assert.Equal(ReasonCodes.Allowed, await ReasonAsync("--resource", "fs/read_text_file", "--definition-hash", Pin));
        Assert.Equal(ReasonCodes.ToolChanged, await ReasonAsync("--resource", "fs/read_text_file"));
        Assert.Equal(ReasonCodes.Allowed, await ReasonAsync("--resource", "fs/read_file"));
        Assert.Equal(ReasonCodes.ApprovalRequired, await ReasonAsync("--resource", "gh/create_issue"));
        Assert.Equal(ReasonCodes.OutOfScope, await ReasonAsync("--resource", "fs/write_file"));

        var tampered = Write($"{tenant}.wider.json", grant.Replace("\"fs/read_*\"", "\"fs/*\"", StringComparison.Ordinal));
        Assert.Equal(ReasonCodes.BadSignature, (await cluster.AgentsecAsync("grant", "apply", tampered, "--json")).Field("error"));
        var unapproved = Write($"{tenant}.unapproved.json", System.Text.RegularExpressions.Regex.Replace(grant, "\"approve\": \\[[^\\]]*\\]", "\"approve\": []"));
        Assert.Equal(ReasonCodes.BadSignature, (await cluster.AgentsecAsync("grant", "apply", unapproved, "--json")).Field("error"));
    }

    public static TheoryData<string, string> Tamperings => new()
    {
        { "widen a level", ReasonCodes.BadSignature },
        { "add a scope pattern", ReasonCodes.BadSignature },
        { "extend the expiry", ReasonCodes.BadSignature },
        { "rename the agent", ReasonCodes.BadSignature },
        { "flip a signature bit", ReasonCodes.BadSignature },
        { "truncate the signature", ReasonCodes.InvalidSignatureEncoding },
        { "pad the signature", ReasonCodes.InvalidSignatureEncoding },
        { "swap the signer", ReasonCodes.BadSignature }, // the signature is checked before whom it names
        { "add a member", ReasonCodes.UnknownMember },
        { "duplicate a member", ReasonCodes.DuplicateMember },
        { "make a limit a float", ReasonCodes.InvalidField },
        { "cut the document", ReasonCodes.MalformedJson },
    };

    [Theory]
    [MemberData(nameof(Tamperings))]
    public async Task NodeSignedGrant_Tampered_IsRefusedWithItsCode(string tampering, string code)
    {
        var tenant = "interop-" + Guid.NewGuid().ToString("N")[..10];
        var (did, grant) = await SignWithNodeAsync(tenant, "g-node-t");
        await cluster.CreateTenantAsync(tenant, did);
        var signature = JsonDocument.Parse(grant).RootElement.GetProperty("signature").GetString()!;
        var bad = tampering switch
        {
            "widen a level" => grant.Replace("\"fileSystem\": \"read\"", "\"fileSystem\": \"full\"", StringComparison.Ordinal),
            "add a scope pattern" => grant.Replace("\"/data/**\"", "\"/data/**\", \"/**\"", StringComparison.Ordinal),
            "extend the expiry" => System.Text.RegularExpressions.Regex.Replace(grant, "\"expiresAt\": \"\\d{4}", "\"expiresAt\": \"2099"),
            "rename the agent" => grant.Replace("\"agentId\": \"bot\"", "\"agentId\": \"bot2\"", StringComparison.Ordinal),
            "flip a signature bit" => grant.Replace(signature, (signature[0] == 'A' ? "B" : "A") + signature[1..], StringComparison.Ordinal),
            "truncate the signature" => grant.Replace(signature, signature[..^2], StringComparison.Ordinal),
            "pad the signature" => grant.Replace(signature, signature + "==", StringComparison.Ordinal),
            "swap the signer" => grant.Replace(did, TestKeys.Stranger.Did.Value, StringComparison.Ordinal),
            "add a member" => grant.Replace("\"grantId\"", "\"admin\": true, \"grantId\"", StringComparison.Ordinal),
            "duplicate a member" => grant.Replace("\"grantId\"", "\"agentId\": \"root\", \"grantId\"", StringComparison.Ordinal),
            "make a limit a float" => grant.Replace("\"checksPerSecond\": 500", "\"checksPerSecond\": 500.5", StringComparison.Ordinal),
            _ => grant[..(grant.Length / 2)],
        };
        Assert.NotEqual(grant, bad);
        var client = await cluster.OperatorClientAsync(); // the command line's answer to a refusal is its own tests' subject

        var applied = await client.ApplyGrantAsync(bad);

        Assert.False(applied.Applied, applied.Message);
        Assert.Equal(code, applied.Error);
        Assert.False((await client.CheckAsync(tenant, "bot", new CheckRequest("llm"))).Allowed);
    }

    private async Task<(string Did, string Grant)> SignWithNodeAsync(string tenant, string grantId, string version = "v1")
    {
        var script = Path.Combine(RepositoryPaths.Root, "tests", "interop", "sign-grant.mjs");
        var result = await cluster.RunAsync("node", [script, Seed, tenant, "bot", grantId, version]);
        Assert.True(result.ExitCode == 0, result.ToString());
        return (result.Field("did"), result.Field("grant"));
    }

    private string Write(string name, string text)
    {
        var path = cluster.PathOf(name);
        File.WriteAllText(path, text);
        return path;
    }
}

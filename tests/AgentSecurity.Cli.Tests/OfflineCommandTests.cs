using AgentSecurity.Grants;
using AgentSecurity.Grants.Documents;

namespace AgentSecurity.Cli.Tests;

/// <summary>The commands that need no cluster: keys, DIDs, signing and offline verification.</summary>
public sealed class OfflineCommandTests : IDisposable
{
    private readonly CliHarness _cli = new();

    public void Dispose() => _cli.Dispose();

    [Fact]
    public async Task KeyNew_WritesOwnerOnlyKeyFileWhoseDidMatches()
    {
        var (exit, json) = await _cli.JsonAsync("key", "new", "--out", _cli.PathOf("a.key"));

        Assert.Equal(0, exit);
        var key = Grants.Crypto.SigningKey.FromKeyFileJson(File.ReadAllBytes(_cli.PathOf("a.key")));
        Assert.True(key.Succeeded);
        Assert.Equal(json.GetProperty("did").GetString(), key.Value.Did.Value);
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(_cli.PathOf("a.key")));
        }
    }

    [Fact]
    public async Task KeyNew_ExistingFile_IsNeverOverwritten()
    {
        var path = await _cli.NewKeyAsync("a.key");
        var before = File.ReadAllText(path);

        var (exit, json) = await _cli.JsonAsync("key", "new", "--out", path);

        Assert.Equal(2, exit);
        Assert.Equal("usage", json.GetProperty("error").GetString());
        Assert.Equal(before, File.ReadAllText(path));
    }

    [Theory]
    [InlineData("192.0.2.10:30000")]
    [InlineData("127.0.0.1:30000,192.0.2.10:30000")]
    [InlineData("[2001:db8::1]:30000")]
    public async Task AnyCommand_GatewayBeyondLoopbackWithoutTls_IsRefusedBeforeConnecting(string gateways)
    {
        // A session is a bearer token: sent in clear text to another machine, whoever sees it could replay it.
        var key = await _cli.NewKeyAsync("caller.key");

        var (exit, json) = await _cli.JsonAsync("tenant", "show", "acme", "--gateway", gateways, "--as", key);

        Assert.Equal(2, exit);
        Assert.Equal("usage", json.GetProperty("error").GetString());
        Assert.Contains("clear text", json.GetProperty("message").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task AnyCommand_GatewayNameThatDoesNotResolve_IsUnreachable()
    {
        var key = await _cli.NewKeyAsync("caller.key");

        var (exit, json) = await _cli.JsonAsync("tenant", "show", "acme", "--gateway", "nonexistent.invalid:30000", "--as", key);

        Assert.Equal(3, exit);
        Assert.Equal(ReasonCodes.Unavailable, json.GetProperty("error").GetString());
        Assert.Contains("cannot resolve the gateway nonexistent.invalid", json.GetProperty("message").GetString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp", 0, null)]
    [InlineData("did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooW0", 1, ReasonCodes.InvalidDid)]
    [InlineData("did:web:example.com", 1, ReasonCodes.InvalidDid)]
    public async Task DidInspect_AnswersKeyOrInvalidDid(string did, int expectedExit, string? error)
    {
        var (exit, json) = await _cli.JsonAsync("did", "inspect", did);

        Assert.Equal(expectedExit, exit);
        if (error is null)
        {
            Assert.Equal("3b6a27bcceb6a42d62a3a8d02a6f0d73653215771de243a63ac048a18b59da29", json.GetProperty("publicKey").GetString());
        }
        else
        {
            Assert.Equal(error, json.GetProperty("error").GetString());
        }
    }

    [Fact]
    public async Task GrantSign_EveryOption_EndsUpInTheSignedGrant()
    {
        var key = await _cli.NewKeyAsync("root.key");
        var agentKey = await _cli.NewKeyAsync("agent.key");
        var agentDid = Grants.Crypto.SigningKey.FromKeyFileJson(File.ReadAllBytes(agentKey)).Value.Did.Value;

        var (exit, output, error) = await _cli.RunAsync("grant", "sign", "--key", key, "--tenant", "acme", "--agent", "bot",
            "--fs", "read", "--net", "full", "--memory", "write", "--subprocess", "--vectordb", "--llm", "--isolation", "native",
            "--scope", "fileSystem=/data/**", "--scope", "fileSystem=/tmp/*", "--scope", "network=*.example.com:443", "--scope", "memory=notes/**",
            "--limit", "checksPerSecond=50", "--limit", "llmTokensPerHour=100000", "--agent-did", agentDid, "--parent", "g-parent",
            "--grant-id", "g-cli", "--issued-at", "2026-03-01T10:00:00Z", "--not-before", "2026-03-01T11:00:00Z", "--expires-in", "1h30m", "--json");

        Assert.True(exit == 0, error);
        var grant = GrantDocument.Parse(output).Value;
        Assert.True(grant.Envelope.HasValidSignature());
        Assert.Equal("g-cli", grant.GrantId);
        Assert.Equal(Grants.Capabilities.AccessLevel.Read, grant.Capabilities.FileSystem);
        Assert.Equal(Grants.Capabilities.NetworkAccess.Full, grant.Capabilities.Network);
        Assert.Equal(Grants.Capabilities.AccessLevel.Write, grant.Capabilities.Memory);
        Assert.True(grant.Capabilities.Subprocess && grant.Capabilities.VectorDb && grant.Capabilities.Llm);
        Assert.Equal(Grants.Capabilities.IsolationLevel.Native, grant.Isolation);
        Assert.Equal(["/data/**", "/tmp/*"], grant.Scopes.FileSystem!);
        Assert.Equal(["*.example.com:443"], grant.Scopes.Network!);
        Assert.Equal(["notes/**"], grant.Scopes.Memory!);
        Assert.Equal(50, grant.Limits.ChecksPerSecond);
        Assert.Equal(100000, grant.Limits.LlmTokensPerHour);
        Assert.Equal(agentDid, grant.AgentDid!.Value);
        Assert.Equal("g-parent", grant.ParentGrantId);
        Assert.Equal(new DateTimeOffset(2026, 3, 1, 10, 0, 0, TimeSpan.Zero), grant.IssuedAt);
        Assert.Equal(new DateTimeOffset(2026, 3, 1, 11, 0, 0, TimeSpan.Zero), grant.NotBefore);
        Assert.Equal(new DateTimeOffset(2026, 3, 1, 12, 30, 0, TimeSpan.Zero), grant.ExpiresAt);
    }

    [Fact]
    public async Task GrantSign_ToolOptions_SignAGrantV2()
    {
        const string Pin = "sha256:1d8b2b6ca5e1073726f4f41ba61ac8c888d2867157d6cf12547c55051c7f482a";
        var key = await _cli.NewKeyAsync("root.key");

        var (exit, output, error) = await _cli.RunAsync("grant", "sign", "--key", key, "--tenant", "acme", "--agent", "bot",
            "--tool", "fs/read_*", "--tool", "gh/create_issue", "--approve", "gh/*", "--pin", $"fs/read_text_file={Pin}", "--json");
        var (v1Exit, v1Output, _) = await _cli.RunAsync("grant", "sign", "--key", key, "--tenant", "acme", "--agent", "bot", "--json");

        Assert.True(exit == 0, error);
        var grant = GrantDocument.Parse(output).Value;
        Assert.Equal(("agentsec.grant.v2", true), (grant.Envelope.Type, grant.Envelope.HasValidSignature()));
        Assert.Equal(["fs/read_*", "gh/create_issue"], grant.Tools.Patterns);
        Assert.Equal(["gh/*"], grant.Tools.Approve);
        Assert.Equal(Pin, grant.Tools.Pins["fs/read_text_file"]);
        Assert.Equal(0, v1Exit);
        Assert.Equal("agentsec.grant.v1", GrantDocument.Parse(v1Output).Value.Envelope.Type); // without tool options, v1 as before
    }

    [Theory]
    [InlineData("--tool", "fs/a/b", ReasonCodes.InvalidField)]
    [InlineData("--tool", "fs/read\u0000", ReasonCodes.InvalidField)]
    [InlineData("--approve", "*", ReasonCodes.InvalidField)]
    [InlineData("--pin", "fs/read", "usage")]
    [InlineData("--pin", "fs/read=sha256:ABC", ReasonCodes.InvalidField)]
    [InlineData("--pin", "fs/*=sha256:1d8b2b6ca5e1073726f4f41ba61ac8c888d2867157d6cf12547c55051c7f482a", ReasonCodes.InvalidField)]
    [InlineData("--scope", "fileSystem=/data/../etc", ReasonCodes.InvalidField)]
    [InlineData("--scope", "process=/x", "usage")]
    [InlineData("--limit", "checksPerSecond=1.5", "usage")]
    [InlineData("--limit", "checksPerSecond=-1", "usage")]
    [InlineData("--limit", "maxThreads=4", "usage")]
    [InlineData("--expires-in", "forever", "usage")]
    [InlineData("--agent", "bot/../root", ReasonCodes.InvalidField)]
    [InlineData("--tenant", "ACME", ReasonCodes.InvalidField)]
    [InlineData("--issued-at", "2026-03-01", "usage")]
    public async Task GrantSign_BadInput_IsUsageErrorWithCodeAndWritesNothing(string option, string value, string code)
    {
        var key = await _cli.NewKeyAsync("root.key");
        string[] args = ["grant", "sign", "--key", key, "--tenant", "acme", "--agent", "bot", "--out", _cli.PathOf("out.json")];
        args = option is "--agent" or "--tenant"
            ? args.Select((a, i) => i > 0 && args[i - 1] == option ? value : a).ToArray()
            : [.. args, option, value];

        var (exit, json) = await _cli.JsonAsync(args);

        Assert.Equal(2, exit);
        Assert.Equal(code, json.GetProperty("error").GetString());
        Assert.False(File.Exists(_cli.PathOf("out.json")));
    }

    [Fact]
    public async Task GrantSign_BadKeyFile_IsInvalidKey()
    {
        File.WriteAllText(_cli.PathOf("bad.key"), "{\"did\":\"did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp\",\"privateKey\":\"AQ\"}");

        var (exit, json) = await _cli.JsonAsync("grant", "sign", "--key", _cli.PathOf("bad.key"), "--tenant", "acme", "--agent", "bot");

        Assert.Equal(2, exit);
        Assert.Equal(ReasonCodes.InvalidKey, json.GetProperty("error").GetString());
    }

    [Fact]
    public async Task GrantVerify_TimeWindowAndTrust_AreChecked()
    {
        var key = await _cli.NewKeyAsync("root.key");
        var other = await _cli.NewKeyAsync("other.key");
        var otherDid = Grants.Crypto.SigningKey.FromKeyFileJson(File.ReadAllBytes(other)).Value.Did.Value;
        var file = _cli.PathOf("g.json");
        await _cli.RunAsync("grant", "sign", "--key", key, "--tenant", "acme", "--agent", "bot", "--issued-at", "2026-03-01T10:00:00Z", "--expires-in", "1h", "--out", file);

        var during = await _cli.JsonAsync("grant", "verify", file, "--at", "2026-03-01T10:30:00Z");
        var before = await _cli.JsonAsync("grant", "verify", file, "--at", "2026-03-01T09:58:00Z");
        var after = await _cli.JsonAsync("grant", "verify", file, "--at", "2026-03-01T11:00:00Z");
        var untrusted = await _cli.JsonAsync("grant", "verify", file, "--at", "2026-03-01T10:30:00Z", "--trusted", otherDid);

        Assert.Equal(0, during.Exit);
        Assert.True(during.Json.GetProperty("valid").GetBoolean());
        Assert.Equal((1, ReasonCodes.NotYetValid), (before.Exit, before.Json.GetProperty("error").GetString()));
        Assert.Equal((1, ReasonCodes.Expired), (after.Exit, after.Json.GetProperty("error").GetString()));
        Assert.Equal((1, ReasonCodes.UntrustedSigner), (untrusted.Exit, untrusted.Json.GetProperty("error").GetString()));
    }

    [Fact]
    public async Task GrantVerify_NotUtf8_IsMalformedJson()
    {
        File.WriteAllBytes(_cli.PathOf("g.json"), [(byte)'{', 0xC3, 0x28, (byte)'}']);

        var (exit, json) = await _cli.JsonAsync("grant", "verify", _cli.PathOf("g.json"));

        Assert.Equal(1, exit);
        Assert.Equal(ReasonCodes.MalformedJson, json.GetProperty("error").GetString());
    }

    [Fact]
    public async Task GrantVerify_HugeFile_IsTooLargeWithoutReadingIt()
    {
        await using (var stream = File.Create(_cli.PathOf("big.json")))
        {
            stream.SetLength(1L << 30);
        }

        var (exit, json) = await _cli.JsonAsync("grant", "verify", _cli.PathOf("big.json"));

        Assert.Equal(1, exit);
        Assert.Equal(ReasonCodes.TooLarge, json.GetProperty("error").GetString());
    }

    [Theory]
    [InlineData("90s", 90)]
    [InlineData("15m", 900)]
    [InlineData("24h", 86400)]
    [InlineData("7d", 604800)]
    [InlineData("1h30m", 5400)]
    public void Durations_Valid_Parse(string text, int seconds)
    {
        Assert.True(Durations.TryParse(text, out var duration));
        Assert.Equal(TimeSpan.FromSeconds(seconds), duration);
    }

    [Theory]
    [InlineData("")]
    [InlineData("0s")]
    [InlineData("-1h")]
    [InlineData("1.5h")]
    [InlineData("1w")]
    [InlineData("h")]
    [InlineData("1h\n")]
    public void Durations_Invalid_DoNotParse(string text) => Assert.False(Durations.TryParse(text, out _));
}

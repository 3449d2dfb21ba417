using System.Reflection;
using System.Text;
using AgentSecurity.Abstractions;
using AgentSecurity.Abstractions.Wire;
using AgentSecurity.Grants;
using AgentSecurity.Grants.Policy;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Serialization;

namespace AgentSecurity.Grains.Tests.Wire;

/// <summary>
/// A check's capability and its answer's reason and message travel as one-byte codes: the codes are fixed for ever (peers
/// of other versions read them), every text still arrives exactly, and a code a reader does not know never reads as
/// another capability.
/// </summary>
public sealed class WireVocabularyTests
{
    private static readonly ServiceProvider Services = new ServiceCollection().AddSerializer().BuildServiceProvider();
    private static readonly Serializer<CheckRequest> Requests = Services.GetRequiredService<Serializer<CheckRequest>>();
    private static readonly Serializer<Decision> Decisions = Services.GetRequiredService<Serializer<Decision>>();

    [Fact]
    public void Vocabularies_Codes_AreTheOnesPeersRead()
    {
        // Append only: changing a line here changes what a peer of another version reads.
        Assert.Equal(
            ["fileSystem:read", "fileSystem:write", "fileSystem:delete", "memory:read", "memory:write", "memory:delete",
             "network:outbound", "network:inbound", "subprocess", "vectorDb", "llm", "tool:call"],
            WireVocabulary.Capabilities.Texts);
        Assert.Equal(
            ["allowed", "no_grant", "capability_not_granted", "out_of_scope", "not_yet_valid", "expired", "revoked",
             "quota_exceeded", "rate_limited", "quarantined", "suspended", "unknown_capability", "isolation_forbids",
             "unavailable", "approval_required", "tool_changed", "invalid_request", "forbidden", "unauthenticated"],
            WireVocabulary.Reasons.Texts);
        Assert.Equal(["allowed by the grant"], WireVocabulary.Messages.Texts);
    }

    [Fact]
    public void Capabilities_EveryCapability_HasACode()
    {
        Assert.Equal(CheckKinds.Names.Order(StringComparer.Ordinal), WireVocabulary.Capabilities.Texts.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void Reasons_EveryCode_IsAReasonCode()
    {
        var reasonCodes = typeof(ReasonCodes).GetFields(BindingFlags.Public | BindingFlags.Static).Select(f => (string)f.GetRawConstantValue()!).ToHashSet();
        Assert.All(WireVocabulary.Reasons.Texts, reason => Assert.Contains(reason, reasonCodes));
    }

    [Fact]
    public void TextOf_CodeZeroOrUnknown_IsNoText()
    {
        Assert.Null(WireVocabulary.Capabilities.TextOf(0));
        Assert.Null(WireVocabulary.Capabilities.TextOf((byte)(WireVocabulary.Capabilities.Texts.Count + 1)));
        Assert.Null(WireVocabulary.Capabilities.TextOf(255));
        Assert.Equal(0, WireVocabulary.Capabilities.CodeOf(null));
        Assert.Equal(0, WireVocabulary.Capabilities.CodeOf("fileSystem:READ"));
    }

    public static TheoryData<string?> Capabilities() => new(["fileSystem:read", "tool:call", "llm", "fileSystem:READ", "fileSystem:read ", "", "🙂", null]);

    [Theory]
    [MemberData(nameof(Capabilities))]
    public void CheckRequest_RoundTrip_ArrivesExactly(string? capability)
    {
        var request = new CheckRequest(capability!, "/workspace/in.txt", 4096) { DefinitionHash = "sha256:" + new string('a', 64) };

        var read = RoundTrip(Requests, request);

        Assert.Equal(request, read);
        Assert.Equal(capability ?? string.Empty, read.Capability);
        Assert.Equal("/workspace/in.txt", read.Resource);
        Assert.Equal(4096, read.Amount);
        Assert.Equal(request.DefinitionHash, read.DefinitionHash);
    }

    [Fact]
    public void CheckRequest_KnownCapability_DoesNotCarryItsText()
    {
        var known = Requests.SerializeToArray(new CheckRequest("network:outbound", "api.example.com:443"));
        var unknown = Requests.SerializeToArray(new CheckRequest("network:Outbound", "api.example.com:443"));

        Assert.DoesNotContain("network:outbound", Encoding.UTF8.GetString(known));
        Assert.Contains("network:Outbound", Encoding.UTF8.GetString(unknown));
        Assert.True(known.Length < unknown.Length, $"{known.Length} bytes with a code, {unknown.Length} with the text");
    }

    [Fact]
    public void CheckRequest_FromAPeerThatSendsTheText_ReadsTheCapability()
    {
        // What a peer of the version before the codes sends: the text at Id 0 and no code.
        var request = WithFields(new CheckRequest("llm"), ("_capabilityText", "fileSystem:write"), ("_capabilityCode", (byte)0));

        var read = RoundTrip(Requests, request);

        Assert.Equal("fileSystem:write", read.Capability);
        Assert.True(CheckKinds.TryParse(read.Capability, out var kind) && kind == CheckKind.FileSystemWrite);
    }

    [Fact]
    public void CheckRequest_UnknownCode_ReadsAsNoCapability()
    {
        // A newer peer's capability (or a hostile byte) is unknown here: never a capability of this version.
        var request = WithFields(new CheckRequest("llm"), ("_capabilityText", null), ("_capabilityCode", (byte)200));

        var read = RoundTrip(Requests, request);

        Assert.Equal(string.Empty, read.Capability);
        Assert.False(CheckKinds.TryParse(read.Capability, out _));
    }

    public static TheoryData<bool, string, string> Answers() => new()
    {
        { true, ReasonCodes.Allowed, Decision.AllowedByTheGrant },
        { true, ReasonCodes.Allowed, "12 tokens charged" },
        { false, ReasonCodes.OutOfScope, "fileSystem:write on /etc/passwd is outside the grant's scopes" },
        { false, ReasonCodes.Unavailable, Decision.AllowedByTheGrant },
        { false, "a_code_added_later", "" },
        { false, "", "🙂" },
    };

    [Theory]
    [MemberData(nameof(Answers))]
    public void Decision_RoundTrip_ArrivesExactly(bool allowed, string reason, string message)
    {
        var decision = new Decision { Allowed = allowed, Reason = reason, Message = message, GrantId = "g-1", Remaining = 7 };

        var read = RoundTrip(Decisions, decision);

        Assert.Equal(decision, read);
        Assert.Equal((allowed, reason, message, "g-1", (long?)7), (read.Allowed, read.Reason, read.Message, read.GrantId, read.Remaining));
        Assert.Equal(decision with { Remaining = null }, read with { Remaining = null });
    }

    [Fact]
    public void Decision_AllowedByTheGrant_CarriesNeitherText()
    {
        var allowed = Decisions.SerializeToArray(new Decision { Allowed = true, Reason = ReasonCodes.Allowed, Message = Decision.AllowedByTheGrant, GrantId = "g-1" });
        var text = Encoding.UTF8.GetString(allowed);

        Assert.DoesNotContain("allowed", text);
        Assert.Contains("g-1", text);
    }

    [Fact]
    public void Decision_UnknownReasonCode_ReadsAsNoReasonAndKeepsTheAnswer()
    {
        var denied = WithFields(Decision.Deny(ReasonCodes.Revoked, "revoked"), ("_reasonCode", (byte)250));

        var read = RoundTrip(Decisions, denied);

        Assert.False(read.Allowed);
        Assert.Equal(string.Empty, read.Reason);
        Assert.Equal("revoked", read.Message);
    }

    private static T RoundTrip<T>(Serializer<T> serializer, T value) => serializer.Deserialize(serializer.SerializeToArray(value))!;

    // Sets the serialized fields as another peer would have written them.
    private static T WithFields<T>(T value, params (string Field, object? Value)[] fields)
    {
        foreach (var (field, fieldValue) in fields)
        {
            typeof(T).GetField(field, BindingFlags.NonPublic | BindingFlags.Instance)!.SetValue(value, fieldValue);
        }

        return value;
    }
}

using AgentSecurity.Grants.Capabilities;
using AgentSecurity.Grants.Documents;
using AgentSecurity.Grants.Json;
using AgentSecurity.Testing;

namespace AgentSecurity.Grants.Tests.Documents;

public sealed class GrantDocumentTests
{
    private static readonly DateTimeOffset Now = TestDocuments.Epoch;

    private static DocumentTemplate Valid() => TestDocuments.Grant("acme", "bot", Now);

    private static void AssertRefused(string text, string code)
    {
        var parsed = GrantDocument.Parse(text);
        Assert.False(parsed.Succeeded, $"expected {code}, but the grant parsed");
        Assert.Equal(code, parsed.Failure!.Code);
        Assert.False(string.IsNullOrWhiteSpace(parsed.Failure.Message));
    }

    [Fact]
    public void Parse_ValidGrant_ReadsEveryMember()
    {
        var text = Valid()
            .Set("notBefore", Now.AddMinutes(5))
            .Set("agentDid", TestKeys.Stranger.Did.Value)
            .SetJson("resourceLimits", """{"checksPerSecond":100,"maxMemoryBytes":9007199254740991}""")
            .SignWith(TestKeys.Root);

        var grant = GrantDocument.Parse(text).Value;

        Assert.Equal("g-1", grant.GrantId);
        Assert.Equal("acme", grant.TenantId);
        Assert.Equal("bot", grant.AgentId);
        Assert.Equal(new CapabilitySet(AccessLevel.Write, NetworkAccess.Outbound, AccessLevel.Write, false, false, true), grant.Capabilities);
        Assert.Equal(["/workspace/**"], grant.Scopes.FileSystem!);
        Assert.Equal(["*.example.com:443"], grant.Scopes.Network!);
        Assert.Equal(["notes/**"], grant.Scopes.Memory!);
        Assert.Equal(100, grant.Limits.ChecksPerSecond);
        Assert.Equal(9007199254740991, grant.Limits.MaxMemoryBytes);
        Assert.Null(grant.Limits.LlmTokensPerHour);
        Assert.Equal(IsolationLevel.Sandboxed, grant.Isolation);
        Assert.Equal(Now, grant.IssuedAt);
        Assert.Equal(Now.AddMinutes(5), grant.NotBefore);
        Assert.Equal(Now.AddDays(1), grant.ExpiresAt);
        Assert.Equal(TestKeys.Stranger.Did, grant.AgentDid);
        Assert.Null(grant.ParentGrantId);
        Assert.Equal(TestKeys.Root.Did, grant.SignedBy);
        Assert.True(grant.Envelope.HasValidSignature());
    }

    [Fact]
    public void Parse_NoNotBefore_DefaultsToIssuedAt()
    {
        var grant = GrantDocument.Parse(Valid().SignWith(TestKeys.Root)).Value;

        Assert.Equal(grant.IssuedAt, grant.NotBefore);
    }

    [Fact]
    public void HasValidSignature_ReorderedAndIndented_StillVerifies()
    {
        var text = Valid().SignWith(TestKeys.Root);
        var members = ((JObject)DocumentTemplate.Json(text)).Members.Reverse();
        var pretty = "{\n" + string.Join(",\n", members.Select(m => $"  \"{m.Key}\" :  {JsonCanonicalizer.CanonicalizeToString(m.Value)}")) + "\n}\n";

        var grant = GrantDocument.Parse(pretty).Value;

        Assert.True(grant.Envelope.HasValidSignature());
        Assert.Equal(GrantDocument.Parse(text).Value.Envelope.ContentHash, grant.Envelope.ContentHash);
    }

    [Theory]
    [InlineData("\"agentId\":\"bot\"", "\"agentId\":\"bot2\"")]
    [InlineData("\"fileSystem\":\"write\"", "\"fileSystem\":\"full\"")]
    [InlineData("\"/workspace/**\"", "\"/**\"")]
    [InlineData("\"expiresAt\":\"2026-01-02T00:00:00Z\"", "\"expiresAt\":\"2027-01-02T00:00:00Z\"")]
    public void HasValidSignature_ContentChangedAfterSigning_IsFalse(string from, string to)
    {
        var text = Valid().SignWith(TestKeys.Root);
        Assert.Contains(from, text, StringComparison.Ordinal);

        var grant = GrantDocument.Parse(text.Replace(from, to, StringComparison.Ordinal)).Value;

        Assert.False(grant.Envelope.HasValidSignature());
    }

    [Fact]
    public void HasValidSignature_SignedByClaimsAnotherKey_IsFalse()
    {
        var text = Valid().Set("signedBy", TestKeys.OtherRoot.Did.Value).SignWith(TestKeys.Root);

        Assert.False(GrantDocument.Parse(text).Value.Envelope.HasValidSignature());
    }

    [Fact]
    public void HasValidSignature_SignatureOfAnotherDocument_IsFalse()
    {
        var other = GrantDocument.Parse(Valid().Set("grantId", "g-2").SignWith(TestKeys.Root)).Value;
        var text = Valid().SignWith(TestKeys.Root);
        var theirs = ((JString)other.Envelope.Body["signature"]!).Value;
        var ours = ((JString)GrantDocument.Parse(text).Value.Envelope.Body["signature"]!).Value;

        Assert.False(GrantDocument.Parse(text.Replace(ours, theirs, StringComparison.Ordinal)).Value.Envelope.HasValidSignature());
    }

    [Theory]
    [InlineData("{")]
    [InlineData("")]
    [InlineData("[]")]
    [InlineData("\"grant\"")]
    [InlineData("{\"type\":\"agentsec.grant.v1\",}")]
    [InlineData("{\"type\":\"agentsec.grant.v1\"} {}")]
    [InlineData("{'type':'agentsec.grant.v1'}")]
    [InlineData("{\"type\":\"agentsec.grant.v1\",\"grantId\":\"\\ud800\"}")]
    [InlineData("{\"type\":\"agentsec.grant.v1\",\"grantId\":\"\\udc00x\"}")]
    [InlineData("{\"type\":\"agentsec.grant.v1\",\"grantId\":\"a\tb\"}")]
    [InlineData("{\"type\":\"agentsec.grant.v1\",\"n\":01}")]
    [InlineData("{\"type\":\"agentsec.grant.v1\",\"n\":1.}")]
    [InlineData("{\"type\":\"agentsec.grant.v1\",\"n\":NaN}")]
    public void Parse_MalformedJson_IsMalformedJson(string text) => AssertRefused(text, ReasonCodes.MalformedJson);

    [Fact]
    public void Parse_InvalidUtf8_IsMalformedJson()
    {
        var bytes = System.Text.Encoding.UTF8.GetBytes(Valid().SignWith(TestKeys.Root)).ToList();
        bytes.InsertRange(bytes.IndexOf((byte)'b'), [0xC3, 0x28]);

        var parsed = GrantDocument.Parse(bytes.ToArray());

        Assert.Equal(ReasonCodes.MalformedJson, parsed.Failure?.Code);
    }

    [Fact]
    public void Parse_ByteOrderMark_IsMalformedJson()
    {
        var bytes = System.Text.Encoding.UTF8.GetPreamble().Concat(System.Text.Encoding.UTF8.GetBytes(Valid().SignWith(TestKeys.Root))).ToArray();

        Assert.Equal(ReasonCodes.MalformedJson, GrantDocument.Parse(bytes).Failure?.Code);
    }

    [Fact]
    public void Parse_DeepNesting_IsMalformedJsonWithoutStackOverflow()
    {
        var text = "{\"type\":\"agentsec.grant.v1\",\"x\":" + new string('[', 100_000) + new string(']', 100_000) + "}";

        var parsed = StrictJsonParser.Parse(text);

        Assert.Equal(ReasonCodes.MalformedJson, parsed.Failure?.Code);
    }

    [Theory]
    [InlineData("{", "{\"agentId\":\"other\",")]
    [InlineData("{\"fileSystem\":", "{\"fileSystem\":\"full\",\"fileSystem\":")]
    [InlineData("\"scopes\":{", "\"scopes\":{\"memory\":[],")]
    public void Parse_DuplicateMember_IsDuplicateMember(string from, string to)
    {
        var text = Valid().SignWith(TestKeys.Root);

        AssertRefused(ReplaceFirst(text, from, to), ReasonCodes.DuplicateMember);
    }

    [Fact]
    public void Parse_DuplicateMemberWrittenWithEscapes_IsDuplicateMember()
    {
        var text = Valid().SignWith(TestKeys.Root);

        AssertRefused(ReplaceFirst(text, "{", "{\"\\u0061gentId\":\"other\","), ReasonCodes.DuplicateMember);
    }

    [Theory]
    [InlineData("comment", "\"hello\"")]
    [InlineData("Capabilities", "{}")]
    [InlineData("grantID", "\"g-1\"")]
    public void Parse_UnknownTopLevelMember_IsUnknownMember(string name, string json)
    {
        AssertRefused(Valid().SetJson(name, json).SignWith(TestKeys.Root), ReasonCodes.UnknownMember);
    }

    [Theory]
    [InlineData("capabilities", """{"fileSystem":"read","network":"none","memory":"none","subprocess":false,"vectorDb":false,"llm":false,"admin":true}""")]
    [InlineData("scopes", """{"fileSystem":["/a"],"process":["x"]}""")]
    [InlineData("resourceLimits", """{"checksPerSecond":1,"maxThreads":2}""")]
    public void Parse_UnknownNestedMember_IsUnknownMember(string name, string json)
    {
        AssertRefused(Valid().SetJson(name, json).SignWith(TestKeys.Root), ReasonCodes.UnknownMember);
    }

    [Theory]
    [InlineData("1.5")]
    [InlineData("1.0")]
    [InlineData("1e3")]
    [InlineData("-1")]
    [InlineData("-0")]
    [InlineData("9007199254740992")]
    [InlineData("99999999999999999999")]
    [InlineData("\"10\"")]
    [InlineData("true")]
    [InlineData("null")]
    public void Parse_LimitNotAPlainSafeInteger_IsInvalidField(string value)
    {
        // Written into the signed text: signing would canonicalize 1.0 to 1.
        var text = Valid().SetJson("resourceLimits", """{"checksPerSecond":7}""").SignWith(TestKeys.Root);

        AssertRefused(text.Replace("\"checksPerSecond\":7", "\"checksPerSecond\":" + value, StringComparison.Ordinal), ReasonCodes.InvalidField);
    }

    [Theory]
    [InlineData("2026-01-01T00:00:00z")]
    [InlineData("2026-01-01T00:00:00.000Z")]
    [InlineData("2026-01-01T00:00:00+00:00")]
    [InlineData("2026-01-01 00:00:00Z")]
    [InlineData("2026-1-01T00:00:00Z")]
    [InlineData("2026-02-30T00:00:00Z")]
    [InlineData("2026-01-01T24:00:00Z")]
    [InlineData("2026-12-31T23:59:60Z")]
    [InlineData("１０２６-01-01T00:00:00Z")]
    [InlineData("")]
    public void Parse_BadTime_IsInvalidField(string time)
    {
        AssertRefused(Valid().Set("expiresAt", time).SignWith(TestKeys.Root), ReasonCodes.InvalidField);
    }

    [Theory]
    [InlineData("grantId")]
    [InlineData("tenantId")]
    [InlineData("agentId")]
    [InlineData("capabilities")]
    [InlineData("environmentIsolation")]
    [InlineData("issuedAt")]
    [InlineData("expiresAt")]
    [InlineData("signature")]
    [InlineData("type")]
    public void Parse_RequiredMemberMissing_IsInvalidField(string name)
    {
        // Parsing refuses the form before any signature is checked, so the member can be cut from a signed grant.
        var signed = (JObject)DocumentTemplate.Json(Valid().SignWith(TestKeys.Root));

        AssertRefused(JsonCanonicalizer.CanonicalizeToString(signed.Without(name)), ReasonCodes.InvalidField);
    }

    [Theory]
    [InlineData("tenantId", "Acme")]
    [InlineData("tenantId", "-acme")]
    [InlineData("tenantId", "acme/other")]
    [InlineData("agentId", "bot/../other")]
    [InlineData("agentId", "bot/x")]
    [InlineData("agentId", "")]
    [InlineData("agentId", ".bot")]
    [InlineData("grantId", "g 1")]
    [InlineData("environmentIsolation", "container")]
    [InlineData("environmentIsolation", "Sandboxed")]
    public void Parse_BadIdentifierOrEnum_IsInvalidField(string name, string value)
    {
        AssertRefused(Valid().Set(name, value).SignWith(TestKeys.Root), ReasonCodes.InvalidField);
    }

    [Fact]
    public void Parse_TooLongIdentifier_IsInvalidField()
    {
        AssertRefused(Valid().Set("agentId", new string('a', 129)).SignWith(TestKeys.Root), ReasonCodes.InvalidField);
        AssertRefused(Valid().Set("tenantId", new string('a', 64)).SignWith(TestKeys.Root), ReasonCodes.InvalidField);
    }

    [Theory]
    [InlineData("""{"fileSystem":"read","network":"none","memory":"none","subprocess":false,"vectorDb":false}""")]
    [InlineData("""{"fileSystem":"admin","network":"none","memory":"none","subprocess":false,"vectorDb":false,"llm":false}""")]
    [InlineData("""{"fileSystem":"read","network":"read","memory":"none","subprocess":false,"vectorDb":false,"llm":false}""")]
    [InlineData("""{"fileSystem":"read","network":"none","memory":"none","subprocess":"false","vectorDb":false,"llm":false}""")]
    [InlineData("""{"fileSystem":"read","network":"none","memory":"none","subprocess":0,"vectorDb":false,"llm":false}""")]
    [InlineData("""["fileSystem"]""")]
    public void Parse_BadCapabilities_IsInvalidField(string capabilities)
    {
        AssertRefused(Valid().SetJson("capabilities", capabilities).SignWith(TestKeys.Root), ReasonCodes.InvalidField);
    }

    [Theory]
    [InlineData("""{"fileSystem":["/workspace/../etc"]}""")]
    [InlineData("""{"fileSystem":["workspace/**"]}""")]
    [InlineData("""{"fileSystem":["/workspace//x"]}""")]
    [InlineData("""{"fileSystem":["/work%2fspace"]}""")]
    [InlineData("""{"fileSystem":[""]}""")]
    [InlineData("""{"fileSystem":"/workspace"}""")]
    [InlineData("""{"network":["example.com"]}""")]
    [InlineData("""{"network":["example.com:0"]}""")]
    [InlineData("""{"network":["example.com:65536"]}""")]
    [InlineData("""{"network":["**.example.com:443"]}""")]
    [InlineData("""{"network":["exa mple.com:443"]}""")]
    [InlineData("""{"memory":["/notes"]}""")]
    [InlineData("""{"memory":["notes/./x"]}""")]
    public void Parse_BadScopePattern_IsInvalidField(string scopes)
    {
        AssertRefused(Valid().SetJson("scopes", scopes).SignWith(TestKeys.Root), ReasonCodes.InvalidField);
    }

    [Fact]
    public void Parse_TooManyScopePatterns_IsInvalidField()
    {
        var patterns = string.Join(",", Enumerable.Range(0, GrantTerms.MaxPatternsPerScope + 1).Select(i => $"\"/w/{i}\""));

        AssertRefused(Valid().SetJson("scopes", $$"""{"fileSystem":[{{patterns}}]}""").SignWith(TestKeys.Root), ReasonCodes.InvalidField);
    }

    [Fact]
    public void Parse_ExpiresNotAfterNotBefore_IsInvalidField()
    {
        AssertRefused(Valid().Set("expiresAt", Now).SignWith(TestKeys.Root), ReasonCodes.InvalidField);
        AssertRefused(Valid().Set("notBefore", Now.AddDays(2)).SignWith(TestKeys.Root), ReasonCodes.InvalidField);
    }

    [Fact]
    public void Parse_Over16KiB_IsTooLarge()
    {
        var text = Valid().SignWith(TestKeys.Root);
        var padded = text[..^1] + new string(' ', DocumentTypes.MaxDocumentBytes) + "}";

        AssertRefused(padded, ReasonCodes.TooLarge);
    }

    [Fact]
    public void Parse_Exactly16KiB_IsAccepted()
    {
        var text = Valid().SignWith(TestKeys.Root);
        var padded = text[..^1] + new string(' ', DocumentTypes.MaxDocumentBytes - text.Length) + "}";

        Assert.Equal(DocumentTypes.MaxDocumentBytes, padded.Length);
        Assert.True(GrantDocument.Parse(padded).Succeeded);
    }

    [Theory]
    [InlineData("agentsec.grant.v3")]
    [InlineData("agentsec.Grant.v1")]
    [InlineData("")]
    public void Parse_UnknownType_IsUnsupportedType(string type)
    {
        AssertRefused(Valid().Set("type", type).SignWith(TestKeys.Root), ReasonCodes.UnsupportedType);
    }

    [Fact]
    public void Parse_TenantDocumentAsGrant_IsUnsupportedType()
    {
        var tenant = TestDocuments.Tenant("acme", Now, TestKeys.Root.Did.Value).SignWith(TestKeys.Operator);

        AssertRefused(tenant, ReasonCodes.UnsupportedType);
    }

    [Theory]
    [InlineData("signedBy", "did:web:example.com")]
    [InlineData("signedBy", "did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp#key-1")]
    [InlineData("signedBy", "did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooW0")]
    [InlineData("agentDid", "did:key:z6LShs9GGnqk85isEBzzshkuVWrVKsRp24GnDuHk8QWkARMW")]
    [InlineData("agentDid", "did:key:zQ3shokFTS3brHcDQrn82RUDfCZESWL1ZdCEJwekUDPQiYBme")]
    public void Parse_BadDid_IsInvalidDid(string member, string did)
    {
        AssertRefused(Valid().Set(member, did).SignWith(TestKeys.Root), ReasonCodes.InvalidDid);
    }

    [Theory]
    [InlineData("pad")]
    [InlineData("standard-alphabet")]
    [InlineData("short")]
    [InlineData("long")]
    [InlineData("tail-bits")]
    [InlineData("whitespace")]
    public void Parse_NonCanonicalOrWrongLengthSignature_IsInvalidSignatureEncoding(string defect)
    {
        var text = Valid().SignWith(TestKeys.Root);
        var signature = ((JString)((JObject)DocumentTemplate.Json(text))["signature"]!).Value;
        var bad = defect switch
        {
            "pad" => signature + "==",
            "standard-alphabet" => signature.Contains('-', StringComparison.Ordinal) || signature.Contains('_', StringComparison.Ordinal)
                ? signature.Replace('-', '+').Replace('_', '/')
                : "+" + signature[1..],
            "short" => signature[..^3],
            "long" => signature + "AAAA",
            "tail-bits" => signature[..^1] + FlipTailBit(signature[^1]),
            _ => signature[..10] + " " + signature[10..],
        };

        AssertRefused(text.Replace(signature, bad, StringComparison.Ordinal), ReasonCodes.InvalidSignatureEncoding);
    }

    private static char FlipTailBit(char last)
    {
        // 64 bytes leave 4 unused bits in the last of 86 characters; setting the lowest one keeps the alphabet.
        const string alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        return alphabet[alphabet.IndexOf(last, StringComparison.Ordinal) | 1];
    }

    private static string ReplaceFirst(string text, string from, string to)
    {
        var index = text.IndexOf(from, StringComparison.Ordinal);
        Assert.True(index >= 0, $"'{from}' not in the document");
        return text[..index] + to + text[(index + from.Length)..];
    }

    private static Result<GrantTerms> Proposal(IEnumerable<string> fileSystemPatterns) => GrantTerms.ParseProposal(System.Text.Encoding.UTF8.GetBytes(
        $$"""{"capabilities":{"fileSystem":"read","network":"none","memory":"none","subprocess":false,"vectorDb":false,"llm":false},"scopes":{"fileSystem":{{System.Text.Json.JsonSerializer.Serialize(fileSystemPatterns)}}},"environmentIsolation":"sandboxed","expiresAt":"2026-01-02T00:00:00Z"}"""),
        TestDocuments.Epoch);

    /// <summary>
    /// Patterns with wildcards inside them cost every check of the agent up to their length times the resource's: a scope
    /// list may hold 2048 characters of them, so no grant can make its agent's checks slow for everyone on the silo.
    /// </summary>
    [Fact]
    public void ParseProposal_InnerWildcardPatternsPastTheBudget_IsInvalidField()
    {
        var pattern = (int i) => "/" + string.Concat(Enumerable.Repeat("a*", 127)) + (char)('b' + i);

        var within = Proposal(Enumerable.Range(0, GrantTerms.MaxInnerWildcardCharacters / 256).Select(pattern));
        var past = Proposal(Enumerable.Range(0, (GrantTerms.MaxInnerWildcardCharacters / 256) + 1).Select(pattern));

        Assert.True(within.Succeeded, within.Failure?.Message);
        Assert.Equal(ReasonCodes.InvalidField, past.Failure?.Code);
        Assert.Contains("wildcard before their end", past.Failure?.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ParseProposal_SixtyFourTrailingWildcardsAndLiterals_CountNothingAgainstTheBudget()
    {
        var patterns = Enumerable.Range(0, GrantTerms.MaxPatternsPerScope).Select(i => i % 2 == 0 ? $"/workspace/{new string('p', 200)}-{i}/**" : $"/workspace/{new string('q', 200)}-{i}/data.csv");

        Assert.True(Proposal(patterns).Succeeded);
    }

    /// <summary>A number no double can hold has no canonical form: refused as malformed before anything signs or canonicalizes it.</summary>
    [Theory]
    [InlineData("1e400")]
    [InlineData("-1e400")]
    [InlineData("1" + "0000000000" + "0000000000" + "0000000000" + "e300")]
    public void Parse_NumberBeyondADouble_IsMalformedJsonNotAnException(string number)
    {
        var text = TestDocuments.Grant("acme", "bot", TestDocuments.Epoch).SignWith(TestKeys.Root)
            .Replace("\"scopes\":", $"\"resourceLimits\":{{\"checksPerSecond\":{number}}},\"scopes\":", StringComparison.Ordinal);

        Assert.Equal(ReasonCodes.MalformedJson, SignedDocument.Parse(text).Failure?.Code);
        Assert.Equal(ReasonCodes.MalformedJson, GrantDocument.Parse(text).Failure?.Code);
        Assert.Equal(ReasonCodes.MalformedJson, StrictJsonParser.Parse(System.Text.Encoding.UTF8.GetBytes($"[{number}]")).Failure?.Code);
    }
}

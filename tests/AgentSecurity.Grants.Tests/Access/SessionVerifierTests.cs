using AgentSecurity.Grants.Access;
using AgentSecurity.Testing;

namespace AgentSecurity.Grants.Tests.Access;

public sealed class SessionVerifierTests
{
    private const string Audience = "agentsec";
    private static readonly DateTimeOffset Now = TestDocuments.Epoch;
    private static readonly TimeSpan Skew = TimeSpan.FromSeconds(30);

    private static string Session(DocumentTemplate? template = null) =>
        (template ?? TestDocuments.Session(TestKeys.Root.Did.Value, Audience, Now)).SignWith(TestKeys.Root);

    [Fact]
    public void Verify_ValidSession_ProvesItsPrincipal()
    {
        var verified = SessionVerifier.Verify(Session(), Audience, Now.AddMinutes(1), Skew);

        Assert.True(verified.TryGetValue(out var session), verified.Failure?.Message);
        Assert.Equal(TestKeys.Root.Did, session.PrincipalDid);
    }

    public static TheoryData<string, string> Refusals => new()
    {
        { "missing", "no session" },
        { "expired", "expired" },
        { "not yet valid", "not yet valid" },
        { "another audience", "not this cluster" },
        { "signed by another key", "signedBy must equal principalDid" },
        { "altered", "signature does not verify" },
        { "short nonce", "nonce" },
        { "longer than a day", "at most 24 hours" },
        { "not a session", "not valid" },
        { "too large", "at most 4096 bytes" },
        { "too large in bytes", "at most 4096 bytes" },
    };

    [Theory]
    [MemberData(nameof(Refusals))]
    public void Verify_BadSession_IsUnauthenticatedWithTheReason(string bad, string because)
    {
        var template = TestDocuments.Session(TestKeys.Root.Did.Value, Audience, Now);
        var (text, at) = bad switch
        {
            "missing" => ((string?)null, Now),
            "expired" => (Session(), Now.AddHours(1)),
            "not yet valid" => (Session(), Now.AddMinutes(-5)),
            "another audience" => (Session(TestDocuments.Session(TestKeys.Root.Did.Value, "another", Now)), Now),
            "signed by another key" => (template.SignWith(TestKeys.Stranger), Now),
            "altered" => (Session().Replace("AAECAwQFBgcICQoLDA0ODw", "AAECAwQFBgcICQoLDA0OEA", StringComparison.Ordinal), Now),
            "short nonce" => (Session(template.Set("nonce", "AAECAw")), Now),
            "longer than a day" => (Session(template.Set("expiresAt", Now.AddHours(25))), Now),
            "not a session" => (TestDocuments.Access("acme", TestKeys.Root.Did.Value, Now).SignWith(TestKeys.Root), Now),
            "too large" => (new string('x', SessionVerifier.MaxSessionBytes + 1), Now),
            _ => (new string('\u00e9', SessionVerifier.MaxSessionBytes / 2 + 1), Now),
        };

        var verified = SessionVerifier.Verify(text, Audience, at, Skew);

        Assert.Equal(ReasonCodes.Unauthenticated, verified.Failure?.Code);
        Assert.Contains(because, verified.Failure?.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Verify_ClockOfTheCallerAheadWithinTheSkew_IsAccepted()
    {
        Assert.True(SessionVerifier.Verify(Session(), Audience, Now.AddSeconds(-20), Skew).Succeeded);
    }
}

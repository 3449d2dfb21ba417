using System.Text;
using AgentSecurity.Grants;
using AgentSecurity.Grants.Access;
using AgentSecurity.Grants.Encoding;
using AgentSecurity.Hosting.Http;

namespace AgentSecurity.Hosting.Tests.Http;

/// <summary>Reading <c>Authorization: Bearer &lt;base64url of the signed session's UTF-8 bytes&gt;</c>: only the encoding; the boundary verifies the session.</summary>
public sealed class BearerSessionTests
{
    private const string Session = """{"type": "agentsec.session.v1", "note": "é"}""";

    [Theory]
    [InlineData("Bearer ")]
    [InlineData("bearer ")]
    [InlineData("BEARER  ")]
    public void Decode_BearerOfBase64UrlUtf8_IsTheSessionText(string scheme) =>
        Assert.Equal(Session, BearerSession.Decode(scheme + Base64Url.Encode(Encoding.UTF8.GetBytes(Session))).Value);

    [Fact]
    public void HeaderValue_DecodesBackToTheSession() =>
        Assert.Equal(Session, BearerSession.Decode(BearerSession.HeaderValue(Session)).Value);

    public static TheoryData<string?, string> Refused => new()
    {
        { null, "not a Bearer token" },
        { "Basic dXNlcjpwYXNz", "not a Bearer token" },
        { "Bearer", "not a Bearer token" },
        { "Bearer ", "1 to" },
        { "Bearer " + Convert.ToBase64String(Encoding.UTF8.GetBytes(Session + "??")), "not base64url" },   // the standard alphabet or padding
        { "Bearer " + Base64Url.Encode(Encoding.UTF8.GetBytes(Session)) + "=", "not base64url" },
        { "Bearer abc$", "not base64url" },
        { "Bearer " + Base64Url.Encode([0xC3, 0x28]), "not UTF-8" },
        { "Bearer " + new string('A', BearerSession.MaxTokenLength + 4), "1 to" },
    };

    [Theory]
    [MemberData(nameof(Refused))]
    public void Decode_NotABearerSession_IsUnauthenticated(string? header, string because)
    {
        var decoded = BearerSession.Decode(header);

        Assert.False(decoded.Succeeded);
        Assert.Equal(ReasonCodes.Unauthenticated, decoded.Failure.Code);
        Assert.Contains(because, decoded.Failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void MaxTokenLength_CoversTheLargestSessionTheClusterReads() =>
        Assert.True(BearerSession.Decode("Bearer " + Base64Url.Encode(Encoding.UTF8.GetBytes(new string('x', SessionVerifier.MaxSessionBytes)))).Succeeded);
}

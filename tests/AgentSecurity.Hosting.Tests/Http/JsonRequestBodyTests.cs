using AgentSecurity.Hosting.Http;

namespace AgentSecurity.Hosting.Tests.Http;

public sealed class JsonRequestBodyTests
{
    [Theory]
    [InlineData("application/json", true)]
    [InlineData("Application/JSON", true)]
    [InlineData("application/json; charset=utf-8", true)]
    [InlineData("application/json; charset=UTF-8", true)]
    [InlineData("application/json; charset=iso-8859-1", false)]
    [InlineData("text/plain", false)]
    [InlineData("application/x-www-form-urlencoded", false)]
    [InlineData(null, false)]
    public void IsJson_ContentType_IsJsonOnlyInUtf8(string? contentType, bool json) => Assert.Equal(json, JsonRequestBody.IsJson(contentType));
}

using AgentSecurity.Hosting.Http;

namespace AgentSecurity.Hosting.Tests.Http;

public sealed class HttpApiOptionsValidatorTests
{
    [Fact]
    public void Validate_Defaults_Succeed() => Assert.True(new HttpApiOptionsValidator().Validate(null, new HttpApiOptions()).Succeeded);

    public static TheoryData<string, Action<HttpApiOptions>> OutOfBounds => new()
    {
        { "MaxBodyBytes", o => o.MaxBodyBytes = 100 },
        { "MaxBodyBytes", o => o.MaxBodyBytes = 2 * 1024 * 1024 },
        { "MaxEvaluations", o => o.MaxEvaluations = 0 },
        { "MaxEvaluations", o => o.MaxEvaluations = 1001 },
        { "MaxEventStreams", o => o.MaxEventStreams = 0 },
        { "MaxEventStreamsPerPrincipal", o => o.MaxEventStreamsPerPrincipal = 0 },
        { "MaxEventStreamsPerPrincipal", o => o.MaxEventStreamsPerPrincipal = 257 },
        { "EventStreamBuffer", o => o.EventStreamBuffer = 0 },
        { "EventStreamKeepAlive", o => o.EventStreamKeepAlive = TimeSpan.Zero },
        { "PublicBaseUrl", o => o.PublicBaseUrl = new Uri("ftp://pdp.example.com") },
        { "PublicBaseUrl", o => o.PublicBaseUrl = new Uri("https://pdp.example.com/?tenant=1") },
    };

    [Theory]
    [MemberData(nameof(OutOfBounds))]
    public void Validate_SettingOutOfBounds_NamesTheSetting(string setting, Action<HttpApiOptions> change)
    {
        var options = new HttpApiOptions();
        change(options);

        var result = new HttpApiOptionsValidator().Validate(null, options);

        Assert.True(result.Failed);
        Assert.Contains($"{HttpApiOptions.SectionName}:{setting}", result.FailureMessage, StringComparison.Ordinal);
    }
}

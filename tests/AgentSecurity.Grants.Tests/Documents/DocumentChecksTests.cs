using AgentSecurity.Grants.Verification;

namespace AgentSecurity.Grants.Tests.Documents;

public sealed class DocumentChecksTests
{
    private static readonly DateTimeOffset Now = new(2026, 6, 1, 12, 0, 0, TimeSpan.Zero);
    private static readonly TimeSpan Skew = TimeSpan.FromSeconds(60);

    [Theory]
    [InlineData(0, null)]
    [InlineData(60, null)]
    [InlineData(61, ReasonCodes.NotYetValid)]
    public void TimeWindow_IssuedInTheFuture_ToleratesTheSkewOnly(int secondsAhead, string? code)
    {
        var issued = Now.AddSeconds(secondsAhead);

        Assert.Equal(code, DocumentChecks.TimeWindow(issued, issued, issued.AddHours(1), Now, Skew)?.Code);
    }

    [Theory]
    [InlineData(60, null)]
    [InlineData(61, ReasonCodes.NotYetValid)]
    public void TimeWindow_NotBeforeInTheFuture_ToleratesTheSkewOnly(int secondsAhead, string? code)
    {
        Assert.Equal(code, DocumentChecks.TimeWindow(Now, Now.AddSeconds(secondsAhead), Now.AddHours(1), Now, Skew)?.Code);
    }

    [Theory]
    [InlineData(1, null)]
    [InlineData(0, ReasonCodes.Expired)]
    [InlineData(-1, ReasonCodes.Expired)]
    public void TimeWindow_Expiry_GetsNoSkew(int secondsLeft, string? code)
    {
        var start = Now.AddHours(-1);

        Assert.Equal(code, DocumentChecks.TimeWindow(start, start, Now.AddSeconds(secondsLeft), Now, Skew)?.Code);
    }
}

using AgentSecurity.Abstractions.Audit;

namespace AgentSecurity.Audit.Tests.Detection;

public sealed class SecurityEventBoundsTests
{
    private static DecisionEvent Denial(string resource, string? message = null) => new()
    {
        Id = "e-1",
        Type = SecurityEventTypes.CheckDenied,
        TenantId = "t",
        AgentId = "bot",
        Capability = "fileSystem:read",
        Resource = resource,
        Message = message,
    };

    [Fact]
    public void Clamp_FieldsWithinBounds_AreUntouched()
    {
        var e = Denial("/etc/passwd", "no scope covers it");

        Assert.Equal(e, SecurityEventBounds.Clamp(e));
    }

    [Fact]
    public void Clamp_HugeResourceAndMessage_AreClippedAndSayHowLongTheyWere()
    {
        var huge = "/" + new string('a', 1_000_000);

        var clamped = Assert.IsType<DecisionEvent>(SecurityEventBounds.Clamp(Denial(huge, huge)));

        Assert.True(clamped.Resource!.Length <= SecurityEventBounds.MaxFieldLength);
        Assert.True(clamped.Message!.Length <= SecurityEventBounds.MaxFieldLength);
        Assert.StartsWith("/aaaa", clamped.Resource, StringComparison.Ordinal);
        Assert.EndsWith("[1000001 characters, clipped]", clamped.Resource, StringComparison.Ordinal);
        Assert.Equal(("e-1", "bot", "fileSystem:read"), (clamped.Id, clamped.AgentId, clamped.Capability));
    }

    [Fact]
    public void Clamp_CutInsideASurrogatePair_KeepsWholeCharacters()
    {
        // The cut falls right after a high surrogate: the pair goes, it is not halved.
        var text = new string('a', SecurityEventBounds.MaxFieldLength - 41) + "😀" + new string('b', 5000);

        var clamped = Assert.IsType<DecisionEvent>(SecurityEventBounds.Clamp(Denial(text))).Resource!;

        Assert.DoesNotContain(clamped, char.IsSurrogate);
    }
}

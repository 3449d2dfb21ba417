using System.Text;
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

    [Theory]
    [InlineData(1024)] // within the characters, three times the bytes
    [InlineData(5000)]
    public void Clamp_TextOfThreeByteCharacters_IsClippedToTheBytesAndSaysHowLongItWas(int length)
    {
        var clamped = Assert.IsType<DecisionEvent>(SecurityEventBounds.Clamp(Denial(new string('\u20AC', length)))).Resource!;

        Assert.True(Encoding.UTF8.GetByteCount(clamped) <= SecurityEventBounds.MaxFieldBytes, $"{Encoding.UTF8.GetByteCount(clamped)} bytes");
        Assert.StartsWith("\u20AC\u20AC", clamped, StringComparison.Ordinal);
        Assert.EndsWith($"[{length} characters, clipped]", clamped, StringComparison.Ordinal);
    }

    [Fact]
    public void Clamp_TextOfThreeByteCharactersWithinTheBytes_IsUntouched()
    {
        var e = Denial(new string('\u20AC', SecurityEventBounds.MaxFieldBytes / 3));

        Assert.Equal(e, SecurityEventBounds.Clamp(e));
    }

    [Fact]
    public void Clamp_CutAtAnyPlaceAroundASurrogatePair_KeepsWholeCharacters()
    {
        // Wherever the cut falls, before, inside or after the pair, the pair stays whole or goes whole.
        for (var at = 900; at < SecurityEventBounds.MaxFieldLength; at++)
        {
            var text = new string('a', at) + "😀" + new string('b', 5000);

            var clamped = Assert.IsType<DecisionEvent>(SecurityEventBounds.Clamp(Denial(text))).Resource!;

            Assert.True(IsWholeCharacters(clamped), $"cut at {at}: a surrogate was halved");
            Assert.True(clamped.Length <= SecurityEventBounds.MaxFieldLength && Encoding.UTF8.GetByteCount(clamped) <= SecurityEventBounds.MaxFieldBytes);
        }
    }

    private static bool IsWholeCharacters(string text)
    {
        for (var i = 0; i < text.Length; i += char.IsSurrogatePair(text, i) ? 2 : 1)
        {
            if (char.IsSurrogate(text[i]) && !char.IsSurrogatePair(text, i))
            {
                return false;
            }
        }

        return true;
    }
}

using System.Security.Cryptography;
using AgentSecurity.Grains.Permissions;

namespace AgentSecurity.Grains.Tests.Permissions;

/// <summary>An active grant keeps its content hash as 32 bytes: it prints and compares exactly as the hex text it replaces.</summary>
public sealed class Sha256HashTests
{
    private static readonly string Hex = Convert.ToHexStringLower(SHA256.HashData("grant"u8));

    [Fact]
    public void ToString_OfAParsedHash_IsTheSameLowercaseHex()
    {
        Assert.Equal(Hex, Sha256Hash.Parse(Hex).ToString());
    }

    [Fact]
    public void Is_SameHash_IsTrueAndAnyOtherTextIsNot()
    {
        var hash = Sha256Hash.Parse(Hex);
        var other = Convert.ToHexStringLower(SHA256.HashData("grant2"u8));

        Assert.True(hash.Is(Hex));
        Assert.False(hash.Is(other));
        Assert.False(hash.Is(Hex.ToUpperInvariant())); // another text: SignedDocument never writes capitals
        Assert.False(hash.Is(Hex[..^1]));
        Assert.False(hash.Is(Hex[..^1] + (Hex[^1] == '0' ? '1' : '0'))); // the last byte differs
        Assert.False(hash.Is(null));
    }

    [Theory]
    [InlineData("")]
    [InlineData("not a hash")]
    [InlineData("ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789")]
    public void Parse_TextThatIsNotALowercaseHash_IsKeptAsItIs(string text)
    {
        var hash = Sha256Hash.Parse(text);

        Assert.Equal(text, hash.ToString());
        Assert.True(hash.Is(text));
        Assert.False(hash.Is(Hex));
        Assert.False(Sha256Hash.Parse(Hex).Is(text));
    }
}

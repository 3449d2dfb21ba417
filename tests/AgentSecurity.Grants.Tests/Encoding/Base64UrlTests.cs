using AgentSecurity.Grants.Encoding;

namespace AgentSecurity.Grants.Tests.Encoding;

public sealed class Base64UrlTests
{
    [Theory]
    [InlineData(new byte[] { }, "")]
    [InlineData(new byte[] { 0xFB }, "-w")]
    [InlineData(new byte[] { 0xFF, 0xFF }, "__8")]
    [InlineData(new byte[] { 1, 2, 3 }, "AQID")]
    public void EncodeDecode_KnownValues_RoundTrip(byte[] bytes, string text)
    {
        Assert.Equal(text, Base64Url.Encode(bytes));
        Assert.True(Base64Url.TryDecode(text, out var decoded));
        Assert.Equal(bytes, decoded);
    }

    [Theory]
    [InlineData("-w==")] // padding
    [InlineData("+w")] // standard alphabet
    [InlineData("/w")]
    [InlineData("-x")] // tail bits set: 0xFB is -w
    [InlineData("__9")] // tail bits set
    [InlineData("A")] // impossible length
    [InlineData("AQ ID")]
    [InlineData("AQID\n")]
    public void TryDecode_NonCanonical_Fails(string text)
    {
        Assert.False(Base64Url.TryDecode(text, out _));
    }

    [Fact]
    public void TryDecode_AllTwoCharacterStrings_AcceptExactlyOneSpellingPerByte()
    {
        const string alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        var accepted = new List<byte>();
        foreach (var first in alphabet)
        {
            foreach (var second in alphabet)
            {
                var text = $"{first}{second}";
                if (Base64Url.TryDecode(text, out var bytes))
                {
                    Assert.Equal(text, Base64Url.Encode(bytes));
                    accepted.Add(Assert.Single(bytes));
                }
            }
        }

        Assert.Equal(256, accepted.Distinct().Count());
        Assert.Equal(256, accepted.Count);
    }
}

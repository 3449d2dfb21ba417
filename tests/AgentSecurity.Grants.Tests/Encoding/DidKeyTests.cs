using AgentSecurity.Grants.Encoding;
using AgentSecurity.Grants.Identity;
using AgentSecurity.Testing;

namespace AgentSecurity.Grants.Tests.Encoding;

public sealed class DidKeyTests
{
    private const string ZeroSeedDid = "did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp";

    [Fact]
    public void FromPublicKey_ZeroSeedKey_IsTheContractExample()
    {
        using var key = Grants.Crypto.SigningKey.FromSeed(new byte[32]);

        Assert.Equal(ZeroSeedDid, key.Did.Value);
    }

    [Fact]
    public void Parse_RoundTrip_GivesSameKey()
    {
        var did = TestKeys.Root.Did;

        var parsed = DidKey.Parse(did.Value);

        Assert.True(parsed.Succeeded);
        Assert.Equal(did.PublicKey.ToArray(), parsed.Value.PublicKey.ToArray());
        Assert.Equal(did, parsed.Value);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("did:key:")]
    [InlineData("did:key:z")]
    [InlineData("DID:KEY:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp")]
    [InlineData("did:key:Z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp")]
    [InlineData("did:key:u6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp")]
    [InlineData("did:web:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp")]
    [InlineData(" did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp")]
    [InlineData("did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp ")]
    [InlineData("did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp#z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp")]
    [InlineData("did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp?service=x")]
    [InlineData("did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp/path")]
    [InlineData("did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooW0")] // 0 is not base58
    [InlineData("did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWI")] // I is not base58
    [InlineData("did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooW")] // one character short
    [InlineData("did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWpp")] // one character long
    [InlineData("did:key:z16MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp")] // a leading zero byte
    [InlineData("did:key:z6LShs9GGnqk85isEBzzshkuVWrVKsRp24GnDuHk8QWkARMW")] // X25519, not Ed25519
    [InlineData("did:key:zQ3shokFTS3brHcDQrn82RUDfCZESWL1ZdCEJwekUDPQiYBme")] // secp256k1
    public void Parse_NotAnEd25519DidKey_IsInvalidDid(string? text)
    {
        var parsed = DidKey.Parse(text);

        Assert.False(parsed.Succeeded);
        Assert.Equal(ReasonCodes.InvalidDid, parsed.Failure!.Code);
    }

    [Fact]
    public void Parse_VeryLong_IsInvalidDidWithoutDecoding()
    {
        var parsed = DidKey.Parse("did:key:z" + new string('z', 1_000_000));

        Assert.Equal(ReasonCodes.InvalidDid, parsed.Failure!.Code);
    }

    [Fact]
    public void Parse_RightPrefixWrongMulticodec_IsInvalidDid()
    {
        var bytes = new byte[34];
        bytes[0] = 0xEC; // x25519-pub
        bytes[1] = 0x01;

        Assert.Equal(ReasonCodes.InvalidDid, DidKey.Parse("did:key:z" + Base58Btc.Encode(bytes)).Failure!.Code);
    }

    [Fact]
    public void Parse_Ed25519MulticodecWith33ByteKey_IsInvalidDid()
    {
        var bytes = new byte[35];
        bytes[0] = 0xED;
        bytes[1] = 0x01;

        Assert.Equal(ReasonCodes.InvalidDid, DidKey.Parse("did:key:z" + Base58Btc.Encode(bytes)).Failure!.Code);
    }
}

using AgentSecurity.Grants.Crypto;

namespace AgentSecurity.Grants.Tests.InlineVectors;

/// <summary>
/// RFC 8032 §7.1's Ed25519 TEST 1 to 3, written out here so that signing and verification are checked against the
/// standard even where the shared vectors folder is absent. Ed25519 is deterministic: the seed and message fix the
/// signature to the bit, so signing must reproduce the RFC's bytes, not merely verify.
/// </summary>
public sealed class Rfc8032Tests
{
    private static readonly Dictionary<string, Vector> Vectors = new(StringComparer.Ordinal)
    {
        ["TEST 1"] = new(
            "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
            "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a",
            "",
            "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"),
        ["TEST 2"] = new(
            "4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
            "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c",
            "72",
            "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00"),
        ["TEST 3"] = new(
            "c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7",
            "fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025",
            "af82",
            "6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac18ff9b538d16f290ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a"),
    };

    public static TheoryData<string> Tests => new(Vectors.Keys);

    /// <summary>The tests whose message has a bit to flip (TEST 1's is empty).</summary>
    public static TheoryData<string> TestsWithMessage => new(Vectors.Where(v => v.Value.Message.Length > 0).Select(v => v.Key));

    [Theory]
    [MemberData(nameof(Tests))]
    public void FromSeed_RfcSecretKey_GivesRfcPublicKey(string test)
    {
        var vector = Vectors[test];

        using var key = SigningKey.FromSeed(vector.SecretKey);

        Assert.Equal(Convert.ToHexStringLower(vector.PublicKey), Convert.ToHexStringLower(key.Did.PublicKey));
    }

    [Theory]
    [MemberData(nameof(Tests))]
    public void Sign_RfcMessageWithRfcSecretKey_GivesExactlyRfcSignature(string test)
    {
        var vector = Vectors[test];
        using var key = SigningKey.FromSeed(vector.SecretKey);

        var signature = key.Sign(vector.Message);

        Assert.Equal(Convert.ToHexStringLower(vector.Signature), Convert.ToHexStringLower(signature));
    }

    [Theory]
    [MemberData(nameof(Tests))]
    public void Verify_RfcSignature_IsValid(string test)
    {
        var vector = Vectors[test];

        Assert.True(Ed25519.Verify(vector.PublicKey, vector.Message, vector.Signature));
    }

    [Theory]
    [MemberData(nameof(Tests))]
    public void Verify_RfcSignatureWithAnyOneBitFlipped_IsInvalid(string test)
    {
        // Every bit: R's, S's low bits (a different scalar), and S's high bits (S ≥ L, which must be refused outright).
        var vector = Vectors[test];
        var accepted = new List<int>();
        for (var bit = 0; bit < Ed25519.SignatureLength * 8; bit++)
        {
            var flipped = vector.Signature.ToArray();
            flipped[bit / 8] ^= (byte)(1 << (bit % 8));
            if (Ed25519.Verify(vector.PublicKey, vector.Message, flipped))
            {
                accepted.Add(bit);
            }
        }

        Assert.Empty(accepted);
    }

    [Theory]
    [MemberData(nameof(TestsWithMessage))]
    public void Verify_RfcSignatureOfAMessageWithOneBitFlipped_IsInvalid(string test)
    {
        var vector = Vectors[test];
        var accepted = new List<int>();
        for (var bit = 0; bit < vector.Message.Length * 8; bit++)
        {
            var flipped = vector.Message.ToArray();
            flipped[bit / 8] ^= (byte)(1 << (bit % 8));
            if (Ed25519.Verify(vector.PublicKey, flipped, vector.Signature))
            {
                accepted.Add(bit);
            }
        }

        Assert.Empty(accepted);
    }

    private sealed record Vector(byte[] SecretKey, byte[] PublicKey, byte[] Message, byte[] Signature)
    {
        public Vector(string secretKey, string publicKey, string message, string signature)
            : this(Convert.FromHexString(secretKey), Convert.FromHexString(publicKey), Convert.FromHexString(message), Convert.FromHexString(signature))
        {
        }
    }
}

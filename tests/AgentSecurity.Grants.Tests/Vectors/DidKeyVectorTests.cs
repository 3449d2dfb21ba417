using AgentSecurity.Grants.Crypto;
using AgentSecurity.Grants.Encoding;
using AgentSecurity.Grants.Identity;
using AgentSecurity.Testing;

namespace AgentSecurity.Grants.Tests.Vectors;

/// <summary>The did:key method's Ed25519 vectors: seed → DID, and DID → public key.</summary>
public sealed class DidKeyVectorTests
{
    public static TheoryData<string> Dids => ConformanceVectors.Cases(() =>
    {
        using var json = ConformanceVectors.Json("did-key", "ed25519-x25519.json");
        return json.RootElement.EnumerateObject().Select(p => p.Name).ToList();
    });

    [SkippableTheory]
    [MemberData(nameof(Dids))]
    public void FromSeed_VectorSeed_GivesVectorDid(string did)
    {
        ConformanceVectors.SkipIfMissing(did);
        using var json = ConformanceVectors.Json("did-key", "ed25519-x25519.json");
        var entry = json.RootElement.GetProperty(did);
        using var key = SigningKey.FromSeed(Convert.FromHexString(entry.GetProperty("seed").GetString()!));

        Assert.Equal(did, key.Did.Value);
    }

    [SkippableTheory]
    [MemberData(nameof(Dids))]
    public void Parse_VectorDid_GivesVectorPublicKey(string did)
    {
        ConformanceVectors.SkipIfMissing(did);
        using var json = ConformanceVectors.Json("did-key", "ed25519-x25519.json");
        var pair = json.RootElement.GetProperty(did).GetProperty("verificationKeyPair");

        var parsed = DidKey.Parse(did);

        Assert.True(parsed.Succeeded, parsed.Failure?.ToString());
        // The vectors give the key either in base58 or as a JWK.
        if (pair.TryGetProperty("publicKeyBase58", out var base58))
        {
            Assert.Equal(base58.GetString(), Base58Btc.Encode(parsed.Value.PublicKey));
        }
        else
        {
            Assert.Equal(pair.GetProperty("publicKeyJwk").GetProperty("x").GetString(), Base64Url.Encode(parsed.Value.PublicKey));
        }
    }
}

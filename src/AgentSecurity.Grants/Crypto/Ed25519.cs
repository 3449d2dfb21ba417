using AgentSecurity.Grants.Identity;
using NSec.Cryptography;

namespace AgentSecurity.Grants.Crypto;

/// <summary>Ed25519 (RFC 8032) verification through NSec/libsodium: S ≥ L and non-canonical encodings fail.</summary>
public static class Ed25519
{
    public const int SignatureLength = 64;

    private static readonly SignatureAlgorithm Algorithm = SignatureAlgorithm.Ed25519;

    /// <summary>True only for a valid signature; wrong lengths and keys that are not keys are simply false.</summary>
    public static bool Verify(ReadOnlySpan<byte> publicKey, ReadOnlySpan<byte> data, ReadOnlySpan<byte> signature)
    {
        if (publicKey.Length != DidKey.PublicKeyLength || signature.Length != SignatureLength)
        {
            return false;
        }

        return PublicKey.TryImport(Algorithm, publicKey, KeyBlobFormat.RawPublicKey, out var key)
            && Algorithm.Verify(key!, data, signature);
    }

    public static bool Verify(DidKey signer, ReadOnlySpan<byte> data, ReadOnlySpan<byte> signature) =>
        Verify(signer.PublicKey, data, signature);
}

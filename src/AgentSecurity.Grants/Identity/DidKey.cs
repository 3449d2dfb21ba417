using AgentSecurity.Grants.Encoding;

namespace AgentSecurity.Grants.Identity;

/// <summary>
/// A <c>did:key</c> of an Ed25519 public key: <c>"did:key:z" + base58btc(0xED 0x01 || key)</c>. Decoding is strict
/// and canonical, so two different strings never name the same key.
/// </summary>
public sealed class DidKey : IEquatable<DidKey>
{
    public const int PublicKeyLength = 32;
    private const string Prefix = "did:key:z";

    // The multicodec ed25519-pub as an unsigned varint.
    private const byte MulticodecFirst = 0xED;
    private const byte MulticodecSecond = 0x01;

    // base58 of 34 bytes is at most 47 characters; anything much longer is refused before decoding.
    private const int MaxLength = 64;

    private readonly byte[] _publicKey;

    private DidKey(string value, byte[] publicKey)
    {
        Value = value;
        _publicKey = publicKey;
    }

    /// <summary>The DID string, e.g. <c>did:key:z6Mk…</c>.</summary>
    public string Value { get; }

    public ReadOnlySpan<byte> PublicKey => _publicKey;

    public static DidKey FromPublicKey(ReadOnlySpan<byte> publicKey)
    {
        if (publicKey.Length != PublicKeyLength)
        {
            throw new ArgumentException($"an Ed25519 public key is {PublicKeyLength} bytes", nameof(publicKey));
        }

        var bytes = new byte[2 + PublicKeyLength];
        bytes[0] = MulticodecFirst;
        bytes[1] = MulticodecSecond;
        publicKey.CopyTo(bytes.AsSpan(2));
        return new DidKey(Prefix + Base58Btc.Encode(bytes), publicKey.ToArray());
    }

    public static Result<DidKey> Parse(string? text)
    {
        if (text is null || !text.StartsWith(Prefix, StringComparison.Ordinal))
        {
            return Result<DidKey>.Fail(ReasonCodes.InvalidDid, "a DID must start with did:key:z");
        }

        if (text.Length > MaxLength)
        {
            return Result<DidKey>.Fail(ReasonCodes.InvalidDid, "the DID is too long for an Ed25519 did:key");
        }

        if (!Base58Btc.TryDecode(text[Prefix.Length..], out var bytes))
        {
            return Result<DidKey>.Fail(ReasonCodes.InvalidDid, "the DID holds characters outside base58btc (fragments, queries and paths are not allowed)");
        }

        if (bytes.Length != 2 + PublicKeyLength || bytes[0] != MulticodecFirst || bytes[1] != MulticodecSecond)
        {
            return Result<DidKey>.Fail(ReasonCodes.InvalidDid, "the DID is not an Ed25519 public key (multicodec 0xed01, 32 bytes)");
        }

        var did = FromPublicKey(bytes.AsSpan(2));
        if (!string.Equals(did.Value, text, StringComparison.Ordinal))
        {
            return Result<DidKey>.Fail(ReasonCodes.InvalidDid, "the DID is not in canonical base58btc form");
        }

        return Result<DidKey>.Ok(did);
    }

    public bool Equals(DidKey? other) => other is not null && string.Equals(Value, other.Value, StringComparison.Ordinal);

    public override bool Equals(object? obj) => Equals(obj as DidKey);

    public override int GetHashCode() => StringComparer.Ordinal.GetHashCode(Value);

    public override string ToString() => Value;
}

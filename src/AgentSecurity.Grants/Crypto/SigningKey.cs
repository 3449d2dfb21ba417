using AgentSecurity.Grants.Encoding;
using AgentSecurity.Grants.Identity;
using AgentSecurity.Grants.Json;
using NSec.Cryptography;

namespace AgentSecurity.Grants.Crypto;

/// <summary>
/// An Ed25519 private key with its <c>did:key</c>. Lives outside the cluster (command line, signing tools); the
/// key-file format is <c>{"did": "...", "privateKey": "&lt;base64url of the 32-byte seed&gt;"}</c>.
/// </summary>
public sealed class SigningKey : IDisposable
{
    public const int SeedLength = 32;

    private static readonly SignatureAlgorithm Algorithm = SignatureAlgorithm.Ed25519;
    private readonly Key _key;

    private SigningKey(Key key)
    {
        _key = key;
        Did = DidKey.FromPublicKey(key.PublicKey.Export(KeyBlobFormat.RawPublicKey));
    }

    public DidKey Did { get; }

    public static SigningKey Generate() =>
        new(Key.Create(Algorithm, new KeyCreationParameters { ExportPolicy = KeyExportPolicies.AllowPlaintextExport }));

    public static SigningKey FromSeed(ReadOnlySpan<byte> seed)
    {
        if (seed.Length != SeedLength)
        {
            throw new ArgumentException($"an Ed25519 seed is {SeedLength} bytes", nameof(seed));
        }

        return new(Key.Import(Algorithm, seed, KeyBlobFormat.RawPrivateKey,
            new KeyCreationParameters { ExportPolicy = KeyExportPolicies.AllowPlaintextExport }));
    }

    public byte[] Sign(ReadOnlySpan<byte> data) => Algorithm.Sign(_key, data);

    /// <summary>The key file's JSON text.</summary>
    public string ToKeyFileJson()
    {
        var seed = _key.Export(KeyBlobFormat.RawPrivateKey);
        try
        {
            return JsonCanonicalizer.CanonicalizeToString(new JObject(
            [
                new("did", new JString(Did.Value)),
                new("privateKey", new JString(Base64Url.Encode(seed))),
            ]));
        }
        finally
        {
            Array.Clear(seed);
        }
    }

    /// <summary>Reads a key file and checks that its DID is the DID of its private key.</summary>
    public static Result<SigningKey> FromKeyFileJson(ReadOnlySpan<byte> utf8)
    {
        var parsed = StrictJsonParser.Parse(utf8);
        if (!parsed.Succeeded || parsed.Value is not JObject file ||
            file["did"] is not JString did || file["privateKey"] is not JString privateKey || file.Members.Count != 2)
        {
            return Result<SigningKey>.Fail(ReasonCodes.InvalidKey, "a key file is {\"did\": ..., \"privateKey\": ...}");
        }

        if (!Base64Url.TryDecode(privateKey.Value, out var seed) || seed.Length != SeedLength)
        {
            return Result<SigningKey>.Fail(ReasonCodes.InvalidKey, "privateKey must be the base64url of a 32-byte Ed25519 seed");
        }

        var key = FromSeed(seed);
        Array.Clear(seed);
        if (!string.Equals(key.Did.Value, did.Value, StringComparison.Ordinal))
        {
            key.Dispose();
            return Result<SigningKey>.Fail(ReasonCodes.InvalidKey, "the key file's did does not belong to its private key");
        }

        return Result<SigningKey>.Ok(key);
    }

    public void Dispose() => _key.Dispose();
}

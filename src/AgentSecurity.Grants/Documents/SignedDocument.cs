using System.Security.Cryptography;
using AgentSecurity.Grants.Crypto;
using AgentSecurity.Grants.Encoding;
using AgentSecurity.Grants.Identity;
using AgentSecurity.Grants.Json;

namespace AgentSecurity.Grants.Documents;

/// <summary>
/// The part every signed document shares: its type, signer, signature and the exact bytes that were signed,
/// <c>UTF-8(type) || 0x00 || JCS(document without "signature")</c>. Parsing checks the form only;
/// <see cref="HasValidSignature"/> checks the signature.
/// </summary>
public sealed class SignedDocument
{
    private readonly byte[] _signingInput;
    private readonly byte[] _signature;

    private SignedDocument(string type, JObject body, DidKey signedBy, DateTimeOffset issuedAt, byte[] signingInput, byte[] signature)
    {
        Type = type;
        Body = body;
        SignedBy = signedBy;
        IssuedAt = issuedAt;
        _signingInput = signingInput;
        _signature = signature;
        ContentHash = Convert.ToHexStringLower(SHA256.HashData(signingInput));
    }

    public string Type { get; }

    /// <summary>The whole document, signature included.</summary>
    public JObject Body { get; }

    public DidKey SignedBy { get; }

    public DateTimeOffset IssuedAt { get; }

    public ReadOnlySpan<byte> SigningInput => _signingInput;

    public ReadOnlySpan<byte> Signature => _signature;

    /// <summary>
    /// SHA-256 (hex) of the signed bytes: the identity of the document's content, independent of whitespace,
    /// member order and which of several valid signatures it carries.
    /// </summary>
    public string ContentHash { get; }

    /// <summary>The canonical text of the whole document, signature included: what the cluster stores.</summary>
    public string CanonicalText => JsonCanonicalizer.CanonicalizeToString(Body);

    public bool HasValidSignature() => Ed25519.Verify(SignedBy, _signingInput, _signature);

    /// <summary>Parses the envelope of any known document type and checks that its members are the type's.</summary>
    public static Result<SignedDocument> Parse(ReadOnlySpan<byte> utf8) => Parse(utf8, expectedTypes: null);

    private static Result<SignedDocument> Parse(ReadOnlySpan<byte> utf8, string[]? expectedTypes)
    {
        if (utf8.Length > DocumentTypes.MaxDocumentBytes)
        {
            return Result<SignedDocument>.Fail(ReasonCodes.TooLarge, $"a document is at most {DocumentTypes.MaxDocumentBytes} bytes; this one is {utf8.Length}");
        }

        var json = StrictJsonParser.Parse(utf8);
        if (!json.Succeeded)
        {
            return json.Failure;
        }

        try
        {
            return Result<SignedDocument>.Ok(FromJson(json.Value, expectedTypes));
        }
        catch (DocumentFormatException e)
        {
            return e.ToFailure();
        }
    }

    public static Result<SignedDocument> Parse(string text) => Parse(System.Text.Encoding.UTF8.GetBytes(text));

    /// <summary>Parses and also requires the given type, as the typed document parsers do.</summary>
    internal static SignedDocument ParseOfType(ReadOnlySpan<byte> utf8, string expectedType) => ParseOfTypes(utf8, [expectedType]);

    /// <summary>Parses and requires one of the given types (the versions of one document).</summary>
    internal static SignedDocument ParseOfTypes(ReadOnlySpan<byte> utf8, string[] expectedTypes)
    {
        var envelope = Parse(utf8, expectedTypes);
        return envelope.Succeeded
            ? envelope.Value
            : throw new DocumentFormatException(envelope.Failure.Code, envelope.Failure.Message);
    }

    private static SignedDocument FromJson(JNode root, string[]? expectedTypes)
    {
        if (root is not JObject body)
        {
            throw new DocumentFormatException(ReasonCodes.MalformedJson, $"a document is a JSON object, not a {root.KindName}");
        }

        var type = body["type"] switch
        {
            null => throw new DocumentFormatException(ReasonCodes.InvalidField, "\"type\" is required"),
            JString s => s.Value,
            var other => throw new DocumentFormatException(ReasonCodes.InvalidField, $"\"type\" must be a string, not a {other.KindName}"),
        };
        if (!DocumentTypes.Members.TryGetValue(type, out var allowed))
        {
            throw new DocumentFormatException(ReasonCodes.UnsupportedType, $"unsupported document type \"{type}\"");
        }

        if (expectedTypes is not null && !expectedTypes.Contains(type, StringComparer.Ordinal))
        {
            throw new DocumentFormatException(ReasonCodes.UnsupportedType, $"expected a {string.Join(" or ", expectedTypes)} document, not {type}");
        }

        var members = new MemberReader(body, string.Empty, allowed);
        var signatureText = members.RequireString("signature");
        if (!Base64Url.TryDecode(signatureText, out var signature) || signature.Length != Ed25519.SignatureLength)
        {
            throw new DocumentFormatException(ReasonCodes.InvalidSignatureEncoding,
                "\"signature\" must be canonical base64url without padding of exactly 64 bytes");
        }

        var signedBy = members.RequireDid("signedBy");
        var issuedAt = members.RequireTime("issuedAt");
        return new SignedDocument(type, body, signedBy, issuedAt, SigningInputOf(type, body), signature);
    }

    /// <summary><c>UTF-8(type) || 0x00 || JCS(body without "signature")</c>.</summary>
    public static byte[] SigningInputOf(string type, JObject body)
    {
        var typeBytes = System.Text.Encoding.UTF8.GetBytes(type);
        var canonical = JsonCanonicalizer.Canonicalize(body.Without("signature"));
        var input = new byte[typeBytes.Length + 1 + canonical.Length];
        typeBytes.CopyTo(input, 0);
        canonical.CopyTo(input, typeBytes.Length + 1);
        return input;
    }
}

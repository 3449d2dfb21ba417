namespace AgentSecurity.Grants.Documents;

/// <summary>
/// An <c>agentsec.checkpoint.v1</c> document (this project's addition): the size of a tenant's audit log, its RFC 6962
/// Merkle root and the hash chain's head at that size, signed by the cluster's audit key. Anything in the log up to
/// <see cref="Size"/> that changes later no longer matches a signed checkpoint.
/// </summary>
public sealed class CheckpointDocument
{
    private CheckpointDocument(SignedDocument envelope)
    {
        Envelope = envelope;
    }

    public SignedDocument Envelope { get; }

    public string TenantId { get; private init; } = string.Empty;

    public long Size { get; private init; }

    /// <summary>The Merkle root of the first <see cref="Size"/> records, lowercase hex.</summary>
    public string RootHash { get; private init; } = string.Empty;

    /// <summary>The hash of record <see cref="Size"/> in the chain, lowercase hex.</summary>
    public string ChainHash { get; private init; } = string.Empty;

    public static Result<CheckpointDocument> Parse(string text) => DocumentParsing.Parse(System.Text.Encoding.UTF8.GetBytes(text), DocumentTypes.Checkpoint, (envelope, members) => new CheckpointDocument(envelope)
    {
        TenantId = members.RequireIdentifier("tenantId", Identifiers.IsTenantId, Identifiers.TenantIdRule),
        Size = members.OptionalInteger("size") ?? throw members.Invalid("size", "is required"),
        RootHash = members.RequireIdentifier("rootHash", IsSha256Hex, "64 lowercase hex digits"),
        ChainHash = members.RequireIdentifier("chainHash", IsSha256Hex, "64 lowercase hex digits"),
    });

    private static bool IsSha256Hex(string? value) => value is { Length: 64 } && value.All(c => char.IsAsciiDigit(c) || c is >= 'a' and <= 'f');
}

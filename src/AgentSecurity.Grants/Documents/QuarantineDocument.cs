namespace AgentSecurity.Grants.Documents;

/// <summary>An <c>agentsec.quarantine.v1</c> document: quarantine an agent (every check denied) or release it.</summary>
public sealed class QuarantineDocument
{
    public const int MaxReasonLength = 256;

    private static readonly IReadOnlyDictionary<string, bool> Actions = new Dictionary<string, bool>(StringComparer.Ordinal)
    {
        ["quarantine"] = true,
        ["release"] = false,
    };

    private QuarantineDocument(SignedDocument envelope)
    {
        Envelope = envelope;
    }

    public SignedDocument Envelope { get; }

    public string TenantId { get; private init; } = string.Empty;

    public string AgentId { get; private init; } = string.Empty;

    /// <summary>True to quarantine, false to release.</summary>
    public bool Quarantine { get; private init; }

    public string Reason { get; private init; } = string.Empty;

    public static Result<QuarantineDocument> Parse(ReadOnlySpan<byte> utf8) => DocumentParsing.Parse(utf8, DocumentTypes.Quarantine, (envelope, members) => new QuarantineDocument(envelope)
    {
        TenantId = members.RequireIdentifier("tenantId", Identifiers.IsTenantId, Identifiers.TenantIdRule),
        AgentId = members.RequireIdentifier("agentId", Identifiers.IsAgentId, Identifiers.LocalIdRule),
        Quarantine = members.RequireEnum("action", Actions),
        Reason = members.RequireString("reason", MaxReasonLength),
    });

    public static Result<QuarantineDocument> Parse(string text) => Parse(System.Text.Encoding.UTF8.GetBytes(text));
}

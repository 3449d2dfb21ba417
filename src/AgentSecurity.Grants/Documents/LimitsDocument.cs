using AgentSecurity.Grants.Capabilities;

namespace AgentSecurity.Grants.Documents;

/// <summary>
/// An <c>agentsec.limits.v1</c> document (this project's addition): limits shared by all agents of a tenant, and a
/// cap on how many agents may hold grants. Signed by the platform operator or a root of the tenant; the newest wins.
/// </summary>
public sealed class LimitsDocument
{
    /// <summary>Agents per tenant when no limits document says otherwise.</summary>
    public const long DefaultMaxAgents = 10_000;

    private LimitsDocument(SignedDocument envelope)
    {
        Envelope = envelope;
    }

    public SignedDocument Envelope { get; }

    public string TenantId { get; private init; } = string.Empty;

    /// <summary>Tenant-wide limits; the rate limits (checks, network requests, LLM tokens, file bytes) are enforced.</summary>
    public ResourceLimits Limits { get; private init; } = ResourceLimits.None;

    public long? MaxAgents { get; private init; }

    public static Result<LimitsDocument> Parse(ReadOnlySpan<byte> utf8) => DocumentParsing.Parse(utf8, DocumentTypes.Limits, (envelope, members) => new LimitsDocument(envelope)
    {
        TenantId = members.RequireIdentifier("tenantId", Identifiers.IsTenantId, Identifiers.TenantIdRule),
        Limits = GrantTerms.ReadLimits(members.OptionalObject("resourceLimits"), "resourceLimits"),
        MaxAgents = members.OptionalInteger("maxAgents"),
    });

    public static Result<LimitsDocument> Parse(string text) => Parse(System.Text.Encoding.UTF8.GetBytes(text));
}

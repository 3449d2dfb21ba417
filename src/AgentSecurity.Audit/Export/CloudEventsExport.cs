using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using AgentSecurity.Abstractions.Audit;

namespace AgentSecurity.Audit.Export;

/// <summary>
/// Security events as CloudEvents 1.0 in the structured JSON format (one event per line), for event routers and
/// serverless consumers that filter on CloudEvents attributes without reading the payload.
/// </summary>
/// <remarks>
/// Source: the CloudEvents specification 1.0.2 (github.com/cloudevents/spec): <c>cloudevents/spec.md</c> for the
/// attributes and their naming rules, <c>cloudevents/formats/json-format.md</c> for the envelope, and
/// <c>cloudevents/extensions/sequence.md</c> for <c>sequence</c>. The payload (<c>data</c>) is the flat form of
/// <see cref="SecurityEventJson"/> as a JSON object, so a consumer reads the same members as <c>audit tail</c> gives.
/// </remarks>
public static class CloudEventsExport
{
    public const string SpecVersion = "1.0";

    /// <summary>Prefixed to the event type (<c>check.denied</c> becomes <c>dev.agentsec.check.denied</c>): reverse-DNS, as the spec advises.</summary>
    public const string TypePrefix = "dev.agentsec.";

    public const string DataContentType = "application/json";

    /// <summary>
    /// The width of <c>sequence</c>. The sequence extension makes it a string that orders lexicographically;
    /// zero-padding to the 19 digits of <see cref="long.MaxValue"/> makes string order numeric order.
    /// </summary>
    public const int SequenceDigits = 19;

    /// <summary>The extension attributes this export adds, beyond the spec's own.</summary>
    public static readonly IReadOnlyList<string> Extensions = ["sequence", "tenant"];

    private static readonly JsonWriterOptions WriterOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>The <c>source</c> for a tenant's events: one source per tenant, so that <c>sequence</c> orders within it as the extension asks.</summary>
    public static string TenantSource(string tenantId)
    {
        ArgumentException.ThrowIfNullOrEmpty(tenantId);
        return "/agentsec/tenants/" + Uri.EscapeDataString(tenantId);
    }

    /// <summary>One CloudEvent as a single line of JSON (no newline).</summary>
    /// <param name="e">The event.</param>
    /// <param name="sequence">Its position in the tenant's audit log.</param>
    /// <param name="source">A URI-reference naming the producer, usually <see cref="TenantSource"/>.</param>
    public static string ToJson(SecurityEvent e, long sequence, string source)
    {
        ArgumentNullException.ThrowIfNull(e);
        ArgumentOutOfRangeException.ThrowIfNegative(sequence);
        ArgumentException.ThrowIfNullOrEmpty(source);
        if (!Uri.TryCreate(source, UriKind.RelativeOrAbsolute, out _))
        {
            throw new ArgumentException("source must be a URI-reference", nameof(source));
        }

        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer, WriterOptions))
        {
            writer.WriteStartObject();
            writer.WriteString("specversion", SpecVersion);
            writer.WriteString("id", e.Id);
            writer.WriteString("source", source);
            writer.WriteString("type", TypePrefix + e.Type);
            writer.WriteString("time", e.Time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture));
            if (e.AgentId is not null)
            {
                writer.WriteString("subject", e.TenantId + "/" + e.AgentId);
            }

            writer.WriteString("datacontenttype", DataContentType);
            writer.WriteString("sequence", sequence.ToString("D" + SequenceDigits.ToString(CultureInfo.InvariantCulture), CultureInfo.InvariantCulture));
            writer.WriteString("tenant", e.TenantId);
            writer.WritePropertyName("data");
            writer.WriteRawValue(SecurityEventJson.Write(e));
            writer.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.ToArray());
    }

    /// <summary>
    /// The attributes a CloudEvent from this export must have but lacks, empty when it has them all: the spec's
    /// required <c>specversion</c>, <c>id</c>, <c>source</c> and <c>type</c> (non-empty strings), and what this export
    /// always writes: <c>time</c>, <c>datacontenttype</c>, <c>data</c> and the extensions <c>sequence</c> and
    /// <c>tenant</c>. <c>subject</c> is written only for events about an agent, so it is not required.
    /// </summary>
    public static IReadOnlyList<string> MissingRequired(JsonElement cloudEvent)
    {
        var r = new RequiredMembers(cloudEvent);
        r.String("specversion");
        r.String("id");
        r.String("source");
        r.String("type");
        r.String("time");
        r.String("datacontenttype");
        r.Value("data");
        foreach (var extension in Extensions)
        {
            r.String(extension);
        }

        return r.Missing;
    }

    /// <summary>
    /// Whether a name may be a CloudEvents attribute: lowercase ASCII letters and digits only, and at most 20
    /// characters, the spec's limit for portability to transports with short header names.
    /// </summary>
    public static bool IsValidAttributeName(string name) =>
        name is { Length: > 0 and <= 20 } && name.All(c => c is (>= 'a' and <= 'z') or (>= '0' and <= '9'));
}

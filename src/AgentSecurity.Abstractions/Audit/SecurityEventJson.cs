using System.Buffers;
using System.Globalization;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace AgentSecurity.Abstractions.Audit;

/// <summary>
/// The stable JSON form of a security event: one flat object, members in a fixed order, absent values left out,
/// times as RFC 3339 UTC with milliseconds. What subscribers, <c>audit tail</c> and the audit log all carry.
/// </summary>
public static class SecurityEventJson
{
    private static readonly JsonWriterOptions WriterOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    // The log writes every event it appends: one buffer and writer per thread rather than a new pair per event.
    [ThreadStatic]
    private static ArrayBufferWriter<byte>? t_buffer;

    [ThreadStatic]
    private static Utf8JsonWriter? t_writer;

    public static string Write(SecurityEvent e)
    {
        var buffer = t_buffer ??= new ArrayBufferWriter<byte>(1024);
        buffer.ResetWrittenCount();
        var writer = t_writer ??= new Utf8JsonWriter(buffer, WriterOptions);
        writer.Reset(buffer);
        writer.WriteStartObject();
        writer.WriteString("id", e.Id);
        writer.WriteString("type", e.Type);
        writer.WriteString("time", e.Time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture));
        writer.WriteString("tenant", e.TenantId);
        Optional(writer, "agent", e.AgentId);
        switch (e)
        {
            case DecisionEvent d:
                writer.WriteString("capability", d.Capability);
                Optional(writer, "resource", d.Resource);
                Optional(writer, "grantId", d.GrantId);
                writer.WriteNumber("count", d.Count);
                break;
            case AdministrativeEvent a:
                Optional(writer, "capability", a.Capability);
                Optional(writer, "resource", a.Resource);
                Optional(writer, "grantId", a.GrantId);
                Optional(writer, "signerDid", a.SignerDid);
                break;
            case SandboxEvent s:
                Optional(writer, "capability", s.Capability);
                Optional(writer, "resource", s.Resource);
                Optional(writer, "runtime", s.Runtime);
                break;
            case AlertEvent alert:
                writer.WriteNumber("count", alert.Count);
                writer.WriteString("action", alert.Action);
                break;
            case ToolEvent t:
                writer.WriteString("server", t.Server);
                writer.WriteString("tool", t.Tool);
                Optional(writer, "grantId", t.GrantId);
                Optional(writer, "definitionHash", t.DefinitionHash);
                Optional(writer, "capability", t.Capability);
                Optional(writer, "resource", t.Resource);
                Optional(writer, "requestId", t.RequestId);
                break;
        }

        Optional(writer, "reason", e.Reason);
        Optional(writer, "message", e.Message);
        Optional(writer, "silo", e.Silo);
        Optional(writer, "traceId", e.TraceId);
        writer.WriteEndObject();
        writer.Flush();

        return System.Text.Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    /// <summary>
    /// Reads what <see cref="Write"/> wrote (the audit log stores events in this form). Anything else, such as a stored
    /// record changed by someone with access to the storage, is a <see cref="FormatException"/> and nothing else.
    /// </summary>
    public static SecurityEvent Read(string json)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(json);
        }
        catch (JsonException invalid)
        {
            throw new FormatException($"an event is one JSON object ({invalid.Message})", invalid);
        }

        using var parsed = document;
        var root = document.RootElement;
        if (root.ValueKind != JsonValueKind.Object)
        {
            throw new FormatException("an event is a JSON object");
        }

        string? Text(string name) => root.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;
        string Required(string name) => Text(name) ?? throw new FormatException($"an event has a string \"{name}\"");
        long Number(string name) => !root.TryGetProperty(name, out var value) || value.ValueKind != JsonValueKind.Number
            ? 0
            : value.TryGetInt64(out var number) ? number : throw new FormatException($"an event's \"{name}\" is a 64-bit integer");

        var type = Required("type");
        var common = (Id: Required("id"), Tenant: Required("tenant"), Time: DateTimeOffset.TryParse(Required("time"), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var time)
            ? time
            : throw new FormatException("an event's \"time\" is a date and time"));
        SecurityEvent e = type switch
        {
            SecurityEventTypes.CheckDenied or SecurityEventTypes.ChecksAllowed or SecurityEventTypes.QuotaExceeded => new DecisionEvent
            {
                Id = common.Id, Type = type, TenantId = common.Tenant, Capability = Text("capability") ?? string.Empty,
                Resource = Text("resource"), GrantId = Text("grantId"), Count = Number("count"),
            },
            SecurityEventTypes.SandboxViolation or SecurityEventTypes.ExecutionCompleted or SecurityEventTypes.ExecutionFailed => new SandboxEvent
            {
                Id = common.Id, Type = type, TenantId = common.Tenant, Capability = Text("capability"), Resource = Text("resource"), Runtime = Text("runtime"),
            },
            SecurityEventTypes.ToolCalled or SecurityEventTypes.ToolDenied or SecurityEventTypes.ToolChanged => new ToolEvent
            {
                Id = common.Id, Type = type, TenantId = common.Tenant, Server = Text("server") ?? string.Empty, Tool = Text("tool") ?? string.Empty,
                GrantId = Text("grantId"), DefinitionHash = Text("definitionHash"), Capability = Text("capability"), Resource = Text("resource"),
                RequestId = Text("requestId"),
            },
            SecurityEventTypes.AlertRaised => new AlertEvent
            {
                Id = common.Id, Type = type, TenantId = common.Tenant, Count = Number("count"), Action = Text("action") ?? "none",
            },
            _ => new AdministrativeEvent
            {
                Id = common.Id, Type = type, TenantId = common.Tenant, GrantId = Text("grantId"), SignerDid = Text("signerDid"),
                Capability = Text("capability"), Resource = Text("resource"),
            },
        };
        return e with
        {
            AgentId = Text("agent"),
            Time = common.Time,
            Reason = Text("reason"),
            Message = Text("message"),
            Silo = Text("silo"),
            TraceId = Text("traceId"),
        };
    }

    private static void Optional(Utf8JsonWriter writer, string name, string? value)
    {
        if (value is not null)
        {
            writer.WriteString(name, value);
        }
    }
}

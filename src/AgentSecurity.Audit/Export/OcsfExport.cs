using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using AgentSecurity.Abstractions.Audit;

namespace AgentSecurity.Audit.Export;

/// <summary>
/// Security events as OCSF events, one JSON object per line, for SIEMs and security data lakes that ingest the Open
/// Cybersecurity Schema Framework rather than our own flat form.
/// </summary>
/// <remarks>
/// <para>
/// Source: the OCSF schema repository (github.com/ocsf/ocsf-schema) at tag <c>1.3.0</c>: <c>events/base_event.json</c>
/// with <c>includes/classification.json</c> and <c>includes/occurrence.json</c> (what every class requires),
/// <c>events/iam/authorize_session.json</c>, <c>events/application/api.json</c>,
/// <c>events/findings/detection_finding.json</c>, <c>objects/*.json</c> for the objects' own required members and
/// constraints, and <c>dictionary.json</c> for the enums. 1.3.0 rather than the newest release because it is
/// widely ingested; <c>metadata.version</c> says which schema to validate against. Not 1.1.0: there <c>actor</c>
/// cannot be just an <c>app_name</c>, which is how the kernel acting on its own is named.
/// </para>
/// <para>Classes:</para>
/// <list type="bullet">
/// <item>Check decisions and sandbox refusals: class 3003 in category 3, Identity &amp; Access Management. The schema
/// names 3003 "Authorize Session" (there is no class called "Authorization"); it is the IAM class about privileges
/// assigned to a principal, and requires <c>user</c> and just one of <c>privileges</c> or <c>group</c>. The agent is
/// the <c>user</c>, the capability the one privilege, the decision the status. The class has no place for the
/// resource or grant; they go to <c>unmapped</c>.</item>
/// <item>Administrative events: API Activity (6003) in category 6, Application Activity; it requires <c>actor</c>,
/// <c>api</c> (with <c>operation</c>) and <c>src_endpoint</c>. The operation is the event type.</item>
/// <item>Alerts: Detection Finding (2004) in category 2, Findings, not API Activity: an alert is a detection rule
/// firing, which is what the Findings category is for, and SIEMs route findings to triage rather than to the
/// activity log. The rule is <c>finding_info.analytic</c>; what it did is the <c>security_control</c> profile's
/// <c>action_id</c>/<c>disposition_id</c>.</item>
/// </list>
/// <para>
/// Every event carries its flat form (<see cref="SecurityEventJson"/>) as the string <c>raw_data</c>, so nothing is
/// lost to the mapping, and the audit sequence number as <c>metadata.sequence</c>.
/// </para>
/// </remarks>
public static class OcsfExport
{
    /// <summary>The OCSF schema version the output conforms to (<c>metadata.version</c>).</summary>
    public const string SchemaVersion = "1.3.0";

    public const string ProductName = "AgentSecurity";

    public const string VendorName = "AgentSecurity";

    public const int AuthorizeSessionClassUid = 3003;

    public const int ApiActivityClassUid = 6003;

    public const int DetectionFindingClassUid = 2004;

    /// <summary>What a privilege-less check or sandbox refusal (a limit hit) lists as its privilege: never a capability name.</summary>
    public const string NoPrivilege = "(none)";

    private static readonly OcsfClass AuthorizeSession = new(AuthorizeSessionClassUid, "Authorize Session", 3, "Identity & Access Management");
    private static readonly OcsfClass ApiActivity = new(ApiActivityClassUid, "API Activity", 6, "Application Activity");
    private static readonly OcsfClass DetectionFinding = new(DetectionFindingClassUid, "Detection Finding", 2, "Findings");

    private static readonly string[] SeverityNames = ["Unknown", "Informational", "Low", "Medium", "High", "Critical", "Fatal"];

    // Same escaping as the flat form: the output goes to log pipelines, not into HTML.
    private static readonly JsonWriterOptions WriterOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>One OCSF event as a single line of JSON (no newline), ready for a JSON-lines file.</summary>
    /// <param name="e">The event.</param>
    /// <param name="sequence">Its position in the tenant's audit log.</param>
    public static string ToJson(SecurityEvent e, long sequence)
    {
        ArgumentNullException.ThrowIfNull(e);
        ArgumentOutOfRangeException.ThrowIfNegative(sequence);
        var c = Classify(e);
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer, WriterOptions))
        {
            writer.WriteStartObject();
            writer.WriteNumber("activity_id", c.ActivityId);
            writer.WriteString("activity_name", c.ActivityName);
            writer.WriteNumber("category_uid", c.Class.CategoryUid);
            writer.WriteString("category_name", c.Class.CategoryName);
            writer.WriteNumber("class_uid", c.Class.Uid);
            writer.WriteString("class_name", c.Class.Name);
            writer.WriteNumber("type_uid", ((long)c.Class.Uid * 100) + c.ActivityId);
            writer.WriteString("type_name", c.Class.Name + ": " + c.ActivityName);
            writer.WriteNumber("severity_id", c.SeverityId);
            writer.WriteString("severity", SeverityNames[c.SeverityId]);
            writer.WriteNumber("time", e.Time.ToUnixTimeMilliseconds());
            Optional(writer, "message", e.Message);
            WriteMetadata(writer, e, sequence, c.Class);
            switch (e)
            {
                case DecisionEvent d:
                    WriteStatus(writer, DecisionAllowed(d) ? Status.Success : Status.Failure, d.Reason);
                    writer.WriteNumber("count", d.Count);
                    WriteAuthorizeSession(writer, e, d.Capability, ("resource", d.Resource), ("grantId", d.GrantId), ("silo", e.Silo));
                    break;
                case SandboxEvent s:
                    WriteStatus(writer, s.Type == SecurityEventTypes.ExecutionCompleted ? Status.Success : Status.Failure, s.Reason);
                    WriteAuthorizeSession(writer, e, s.Capability, ("resource", s.Resource), ("runtime", s.Runtime), ("silo", e.Silo));
                    break;
                case ToolEvent t:
                    WriteStatus(writer, t.Type == SecurityEventTypes.ToolCalled ? Status.Success : Status.Failure, t.Reason);
                    WriteAuthorizeSession(writer, e, "tool:call", ("resource", $"{t.Server}/{t.Tool}"), ("grantId", t.GrantId), ("silo", e.Silo));
                    break;
                case AlertEvent alert:
                    WriteDetectionFinding(writer, alert);
                    break;
                default:
                    WriteApiActivity(writer, e);
                    break;
            }

            writer.WriteString("raw_data", SecurityEventJson.Write(e));
            writer.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.ToArray());
    }

    /// <summary>
    /// The required attributes that an OCSF event lacks, by dotted path; empty when it has them all. Checks what
    /// every class requires (classification, <c>time</c>, <c>severity_id</c>, <c>metadata</c> with <c>version</c>
    /// and <c>product</c>) and the class-specific requirements of the three classes this export writes (see the
    /// remarks of <see cref="OcsfExport"/>); other classes get the common checks only. An "at least one of"
    /// constraint that nothing satisfies is reported as its alternatives joined by <c>|</c>.
    /// </summary>
    public static IReadOnlyList<string> MissingRequired(JsonElement ocsf)
    {
        var r = new RequiredMembers(ocsf);
        r.Number("activity_id");
        r.Number("category_uid");
        var hasClass = r.Number("class_uid");
        r.Number("type_uid");
        r.Number("severity_id");
        r.Number("time");
        if (r.Object("metadata"))
        {
            r.String("metadata.version");
            if (r.Object("metadata.product"))
            {
                r.String("metadata.product.vendor_name");
                r.AnyOf("metadata.product.name", "metadata.product.uid");
            }
        }

        var classUid = hasClass && ocsf.GetProperty("class_uid").TryGetInt32(out var uid) ? uid : 0;
        switch (classUid)
        {
            case AuthorizeSessionClassUid:
                if (r.Object("user"))
                {
                    r.AnyOf("user.account", "user.name", "user.uid");
                }

                r.AnyOf("privileges", "group");
                break;
            case ApiActivityClassUid:
                if (r.Object("actor"))
                {
                    r.AnyOf("actor.process", "actor.user", "actor.invoked_by", "actor.session", "actor.app_name", "actor.app_uid");
                }

                if (r.Object("api"))
                {
                    r.String("api.operation");
                }

                if (r.Object("src_endpoint"))
                {
                    r.AnyOf(
                        "src_endpoint.ip", "src_endpoint.uid", "src_endpoint.name", "src_endpoint.hostname", "src_endpoint.svc_name",
                        "src_endpoint.instance_uid", "src_endpoint.interface_uid", "src_endpoint.interface_name");
                }

                break;
            case DetectionFindingClassUid:
                if (r.Object("finding_info"))
                {
                    r.String("finding_info.title");
                    r.String("finding_info.uid");
                    if (r.Has("finding_info.analytic"))
                    {
                        r.Number("finding_info.analytic.type_id");
                    }
                }

                // A profile's required attributes bind only events that declare the profile.
                if (DeclaresProfile(ocsf, "security_control"))
                {
                    r.Number("action_id");
                }

                break;
        }

        return r.Missing;
    }

    private static Classification Classify(SecurityEvent e) => e switch
    {
        DecisionEvent d => new(AuthorizeSession, 1, "Assign Privileges", d.Type switch
        {
            SecurityEventTypes.ChecksAllowed => 1,
            SecurityEventTypes.CheckDenied or SecurityEventTypes.QuotaExceeded => 2,
            _ => DecisionAllowed(d) ? 1 : 2,
        }),
        SandboxEvent s => new(AuthorizeSession, 1, "Assign Privileges", s.Type == SecurityEventTypes.ExecutionCompleted ? 1 : 3),
        AlertEvent alert => new(DetectionFinding, 1, "Create", alert.Action == "quarantine" ? 4 : 3),
        ToolEvent t => new(AuthorizeSession, 1, "Assign Privileges", t.Type == SecurityEventTypes.ToolCalled ? 1 : 3),
        _ => ApiActivityOf(e.Type),
    };

    private static Classification ApiActivityOf(string type)
    {
        var (activity, name) = type switch
        {
            SecurityEventTypes.GrantApplied or SecurityEventTypes.GrantRefused or SecurityEventTypes.TenantCreated
                or SecurityEventTypes.AdminRegistered or SecurityEventTypes.RequestCreated or SecurityEventTypes.AccessApplied => (1, "Create"),
            SecurityEventTypes.RootRotated or SecurityEventTypes.LimitsSet or SecurityEventTypes.AgentQuarantined
                or SecurityEventTypes.AgentReleased or SecurityEventTypes.RequestApproved => (3, "Update"),
            SecurityEventTypes.GrantRevoked => (4, "Delete"),
            _ => (99, "Other"), // a type added after this mapping: still valid OCSF, and api.operation names it
        };
        var severity = type switch
        {
            SecurityEventTypes.AgentQuarantined => 3,
            SecurityEventTypes.GrantRefused or SecurityEventTypes.RootRotated => 2,
            _ => 1,
        };
        return new(ApiActivity, activity, name, severity);
    }

    /// <summary>Allowed checks are summarised as <c>check.allowed</c>; a decision type added later says so by its reason.</summary>
    private static bool DecisionAllowed(DecisionEvent d) =>
        d.Type == SecurityEventTypes.ChecksAllowed
        || (d.Type is not (SecurityEventTypes.CheckDenied or SecurityEventTypes.QuotaExceeded) && d.Reason == "allowed");

    private static void WriteMetadata(Utf8JsonWriter writer, SecurityEvent e, long sequence, OcsfClass ocsfClass)
    {
        writer.WriteStartObject("metadata");
        writer.WriteString("version", SchemaVersion);
        writer.WriteStartObject("product");
        writer.WriteString("name", ProductName);
        writer.WriteString("vendor_name", VendorName);
        writer.WriteEndObject();
        writer.WriteString("uid", e.Id);
        writer.WriteString("tenant_uid", e.TenantId);
        writer.WriteNumber("sequence", sequence);
        writer.WriteString("event_code", e.Type);
        writer.WriteString("log_name", "audit");
        writer.WriteString("original_time", e.Time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture));
        Optional(writer, "correlation_uid", e.TraceId);
        if (ocsfClass == DetectionFinding)
        {
            writer.WriteStartArray("profiles");
            writer.WriteStringValue("security_control");
            writer.WriteEndArray();
        }

        writer.WriteEndObject();
    }

    private static void WriteAuthorizeSession(Utf8JsonWriter writer, SecurityEvent e, string? capability, params (string Name, string? Value)[] unmapped)
    {
        var agent = Agent(e);
        writer.WriteStartObject("user");
        if (agent is null)
        {
            // Not expected of checks and sandboxes, which always act for an agent; the tenant still names the principal.
            writer.WriteString("uid", e.TenantId);
            writer.WriteNumber("type_id", 0);
            writer.WriteString("type", "Unknown");
        }
        else
        {
            writer.WriteString("uid", agent);
            writer.WriteString("name", agent);
            writer.WriteNumber("type_id", 99);
            writer.WriteString("type", "Agent");
        }

        writer.WriteEndObject();
        writer.WriteStartArray("privileges");
        writer.WriteStringValue(string.IsNullOrEmpty(capability) ? NoPrivilege : capability);
        writer.WriteEndArray();
        WriteUnmapped(writer, unmapped);
    }

    private static void WriteApiActivity(Utf8JsonWriter writer, SecurityEvent e)
    {
        // Administrative events, and whatever subtype is added after this mapping, with what it has in common.
        var a = e as AdministrativeEvent;
        WriteStatus(writer, e.Type switch
        {
            SecurityEventTypes.GrantRefused => Status.Failure,
            SecurityEventTypes.GrantApplied or SecurityEventTypes.GrantRevoked or SecurityEventTypes.TenantCreated
                or SecurityEventTypes.AdminRegistered or SecurityEventTypes.RootRotated or SecurityEventTypes.LimitsSet
                or SecurityEventTypes.AgentQuarantined or SecurityEventTypes.AgentReleased or SecurityEventTypes.RequestCreated
                or SecurityEventTypes.RequestApproved or SecurityEventTypes.AccessApplied => Status.Success,
            _ => Status.Unknown,
        }, e.Reason);

        // Who made the call: the key that signed the document, or the agent asking for a permission itself; what the
        // kernel does on its own (a detection rule quarantining an agent) has the product as its actor.
        var agent = Agent(e);
        (string Uid, int TypeId, string Type)? initiator =
            !string.IsNullOrEmpty(a?.SignerDid) ? (a.SignerDid, 2, "Admin")
            : e.Type == SecurityEventTypes.RequestCreated && agent is not null ? (agent, 99, "Agent")
            : null;
        writer.WriteStartObject("actor");
        if (initiator is { } user)
        {
            writer.WriteStartObject("user");
            writer.WriteString("uid", user.Uid);
            writer.WriteString("name", user.Uid);
            writer.WriteNumber("type_id", user.TypeId);
            writer.WriteString("type", user.Type);
            writer.WriteEndObject();
        }
        else
        {
            writer.WriteString("app_name", ProductName);
        }

        writer.WriteEndObject();

        writer.WriteStartObject("api");
        writer.WriteString("operation", e.Type);
        writer.WriteStartObject("service");
        writer.WriteString("name", ProductName);
        writer.WriteEndObject();
        writer.WriteEndObject();

        // The kernel authenticates administrative calls by signature, not by address: the only origin it knows is
        // the key (or agent) that made the call.
        writer.WriteStartObject("src_endpoint");
        writer.WriteString("name", initiator?.Uid ?? ProductName);
        writer.WriteEndObject();
        writer.WriteStartObject("dst_endpoint");
        writer.WriteString("svc_name", ProductName);
        Optional(writer, "name", e.Silo);
        writer.WriteEndObject();

        WriteResources(writer, ("agent", agent, agent), ("grant", a?.GrantId, null), ("capability", null, a?.Capability), ("resource", null, a?.Resource));
    }

    private static void WriteDetectionFinding(Utf8JsonWriter writer, AlertEvent alert)
    {
        var (actionId, action, dispositionId, disposition) = alert.Action switch
        {
            "quarantine" => (2, "Denied", 3, "Quarantined"),
            "none" => (1, "Allowed", 16, "No Action"),
            _ => (0, "Unknown", 0, "Unknown"),
        };
        writer.WriteNumber("action_id", actionId);
        writer.WriteString("action", action);
        writer.WriteNumber("disposition_id", dispositionId);
        writer.WriteString("disposition", disposition);

        // A finding's status is its triage state, set by whoever consumes it: a new alert is New.
        writer.WriteNumber("status_id", 1);
        writer.WriteString("status", "New");
        writer.WriteNumber("count", alert.Count);

        writer.WriteStartObject("finding_info");
        writer.WriteString("uid", alert.Id);
        writer.WriteString("title", string.IsNullOrEmpty(alert.Reason) ? alert.Type : alert.Reason);
        Optional(writer, "desc", alert.Message);
        if (!string.IsNullOrEmpty(alert.Reason))
        {
            writer.WriteStartObject("analytic");
            writer.WriteString("name", alert.Reason);
            writer.WriteNumber("type_id", 1);
            writer.WriteString("type", "Rule");
            writer.WriteEndObject();
        }

        writer.WriteEndObject();
        var agent = Agent(alert);
        WriteResources(writer, ("agent", agent, agent));
        WriteUnmapped(writer, ("action", alert.Action), ("silo", alert.Silo));
    }

    private static void WriteStatus(Utf8JsonWriter writer, Status status, string? reason)
    {
        writer.WriteNumber("status_id", (int)status);
        writer.WriteString("status", status.ToString());
        Optional(writer, "status_detail", reason);
    }

    /// <summary><c>resources</c> (resource_details): each needs a name or uid, so entries with neither are left out.</summary>
    private static void WriteResources(Utf8JsonWriter writer, params (string Type, string? Uid, string? Name)[] resources)
    {
        var present = resources.Where(r => !string.IsNullOrEmpty(r.Uid) || !string.IsNullOrEmpty(r.Name)).ToList();
        if (present.Count == 0)
        {
            return;
        }

        writer.WriteStartArray("resources");
        foreach (var resource in present)
        {
            writer.WriteStartObject();
            writer.WriteString("type", resource.Type);
            Optional(writer, "uid", resource.Uid);
            Optional(writer, "name", resource.Name);
            writer.WriteEndObject();
        }

        writer.WriteEndArray();
    }

    /// <summary>Members of the flat form that the class has no attribute for, under their flat names.</summary>
    private static void WriteUnmapped(Utf8JsonWriter writer, params (string Name, string? Value)[] members)
    {
        if (members.All(m => m.Value is null))
        {
            return;
        }

        writer.WriteStartObject("unmapped");
        foreach (var (name, value) in members)
        {
            Optional(writer, name, value);
        }

        writer.WriteEndObject();
    }

    private static bool DeclaresProfile(JsonElement ocsf, string profile) =>
        RequiredMembers.TryGet(ocsf, "metadata.profiles", out var profiles)
        && profiles.ValueKind == JsonValueKind.Array
        && profiles.EnumerateArray().Any(p => p.ValueKind == JsonValueKind.String && p.GetString() == profile);

    /// <summary>The agent as the rest of AgentSecurity names it: <c>tenant/agent</c>.</summary>
    private static string? Agent(SecurityEvent e) => e.AgentId is null ? null : e.TenantId + "/" + e.AgentId;

    private static void Optional(Utf8JsonWriter writer, string name, string? value)
    {
        if (value is not null)
        {
            writer.WriteString(name, value);
        }
    }

    /// <summary>OCSF <c>status_id</c>; the names are the schema's captions.</summary>
    private enum Status
    {
        Unknown = 0,
        Success = 1,
        Failure = 2,
    }

    private sealed record OcsfClass(int Uid, string Name, int CategoryUid, string CategoryName);

    /// <summary>Where an event lands: class, activity (OCSF <c>activity_id</c> and its caption) and <c>severity_id</c>.</summary>
    private sealed record Classification(OcsfClass Class, int ActivityId, string ActivityName, int SeverityId);
}

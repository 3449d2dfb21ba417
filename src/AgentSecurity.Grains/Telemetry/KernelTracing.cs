using System.Diagnostics;
using AgentSecurity.Abstractions;
using AgentSecurity.Abstractions.Audit;

namespace AgentSecurity.Grains.Telemetry;

/// <summary>
/// The kernel's one <see cref="ActivitySource"/>, its span and attribute names, and the rules of what gets a span.
/// Nothing is allocated unless a tracer listens (<see cref="ActivitySource.HasListeners"/>): the shipped silo listens
/// only when it exports traces (<c>OTEL_EXPORTER_OTLP_ENDPOINT</c>). Checks are sampled here, before any span exists, so
/// an allowed check that is not sampled costs a thread-local count, not a span the exporter would drop. How a span of a
/// recorded decision leads to its audit record: <c>docs/operations.md</c>, Traces.
/// </summary>
public static class KernelTracing
{
    public const string SourceName = "AgentSecurity";

    public const string Check = "agentsec.check";
    public const string ToolCall = "agentsec.tool_call";
    public const string GrantApply = "agentsec.grant.apply";
    public const string Revoke = "agentsec.revoke";
    public const string RevocationNotice = "agentsec.revocation.notice";
    public const string Execution = "agentsec.execution";
    public const string HostCall = "agentsec.host_call";
    public const string AuditRecord = "agentsec.audit.record";

    public const string TenantAttribute = "agentsec.tenant";
    public const string AgentAttribute = "agentsec.agent";
    public const string CapabilityAttribute = "agentsec.capability";
    public const string ResourceAttribute = "agentsec.resource";
    public const string AllowedAttribute = "agentsec.allowed";
    public const string ReasonAttribute = "agentsec.reason";
    public const string GrantAttribute = "agentsec.grant_id";
    public const string RuntimeAttribute = "agentsec.runtime";
    public const string OperationAttribute = "agentsec.operation";

    /// <summary>On a host call's span: its check was allowed on the local path (so no check span is under it).</summary>
    public const string LocalAttribute = "agentsec.local";
    public const string EventIdAttribute = "agentsec.audit.event_id";
    public const string EventTypeAttribute = "agentsec.audit.event_type";
    public const string SequenceAttribute = "agentsec.audit.sequence";

    /// <summary>
    /// The request-context key that carries a sampled kernel span (its W3C <c>traceparent</c>) into the grain calls the
    /// kernel makes on its own behalf (a revocation's notices, a host call's check): grain calls do not carry
    /// <see cref="Activity.Current"/>.
    /// </summary>
    public const string ParentKey = "agentsec-traceparent";

    public static readonly ActivitySource Source = new(SourceName, typeof(KernelTracing).Assembly.GetName().Version?.ToString());

    [ThreadStatic]
    private static int t_checksSinceSample;

    /// <summary>Whether anything listens: false in a silo that exports no traces, and then nothing below runs.</summary>
    public static bool Enabled => Source.HasListeners();

    /// <summary>
    /// Whether a check gets a span from its start: when it is part of a sampled trace, else one in
    /// <paramref name="every"/> (0: none). A denial not sampled here still gets one when it is recorded.
    /// </summary>
    public static bool SampleCheck(int every)
    {
        if (Activity.Current is { Recorded: true } || RequestContext.Get(ParentKey) is string)
        {
            return true;
        }

        if (every <= 0 || ++t_checksSinceSample < every)
        {
            return false;
        }

        t_checksSinceSample = 0;
        return true;
    }

    /// <summary>A kernel span under the current one, else under the kernel span that made this grain call, else a root.</summary>
    public static Activity? Start(string name, ActivityKind kind = ActivityKind.Internal)
    {
        if (Activity.Current is null && RequestContext.Get(ParentKey) is string traceparent && ActivityContext.TryParse(traceparent, null, out var parent))
        {
            return Source.StartActivity(name, kind, parent);
        }

        return Source.StartActivity(name, kind);
    }

    /// <summary>A kernel span under <paramref name="parent"/>, for code that runs outside the flow that started it (sandbox threads).</summary>
    public static Activity? StartUnder(string name, ActivityContext parent) =>
        parent == default ? Source.StartActivity(name) : Source.StartActivity(name, ActivityKind.Internal, parent);

    /// <summary>Lets the grain calls made from here on continue the current kernel span's trace.</summary>
    public static void Propagate()
    {
        if (Activity.Current is { Recorded: true } current && current.Source == Source && current.Id is { } id)
        {
            RequestContext.Set(ParentKey, id);
        }
    }

    /// <summary>The span id a stamped event carries so that its audit record's span joins the trace: only a kernel span that is exported.</summary>
    public static string? RecordingSpanId() =>
        Activity.Current is { Recorded: true } current && current.Source == Source ? current.SpanId.ToHexString() : null;

    /// <summary>The current kernel span, when there is one: the one a decision's event is recorded under.</summary>
    public static Activity? CurrentKernelSpan() => Activity.Current is { } current && current.Source == Source ? current : null;

    public static void TagAgent(Activity? activity, string tenant, string agent)
    {
        if (activity is { IsAllDataRequested: true })
        {
            activity.SetTag(TenantAttribute, tenant);
            activity.SetTag(AgentAttribute, agent);
        }
    }

    public static void TagRequest(Activity? activity, CheckRequest request)
    {
        if (activity is { IsAllDataRequested: true })
        {
            activity.SetTag(CapabilityAttribute, request.Capability);
            activity.SetTag(ResourceAttribute, request.Resource);
        }
    }

    public static void TagDecision(Activity? activity, Decision decision)
    {
        if (activity is { IsAllDataRequested: true })
        {
            activity.SetTag(AllowedAttribute, decision.Allowed);
            activity.SetTag(ReasonAttribute, decision.Reason);
            activity.SetTag(GrantAttribute, decision.GrantId);
        }
    }

    /// <summary>Names, on the span that recorded it, the event its audit record will hold.</summary>
    public static void TagEvent(Activity? activity, SecurityEvent e)
    {
        if (activity is { IsAllDataRequested: true })
        {
            activity.SetTag(TenantAttribute, e.TenantId);
            activity.SetTag(EventIdAttribute, e.Id);
            activity.SetTag(EventTypeAttribute, e.Type);
        }
    }

    /// <summary>
    /// The span of an audit record: the child of the span that recorded the event (the event's trace and span ids),
    /// carrying the leaf index the log gave it. Nothing for events recorded outside a sampled kernel span.
    /// </summary>
    public static void Recorded(string tenant, long sequence, SecurityEvent e, DateTimeOffset appendStarted)
    {
        if (e.TraceId is not { Length: 32 } traceId || e.SpanId is not { Length: 16 } spanId || !IsHex(traceId) || !IsHex(spanId) || !Enabled)
        {
            return; // events appended through the API carry what their sender wrote: only well-formed ids make a span
        }

        var parent = new ActivityContext(ActivityTraceId.CreateFromString(traceId), ActivitySpanId.CreateFromString(spanId), ActivityTraceFlags.Recorded, isRemote: true);
        using var activity = Source.StartActivity(AuditRecord, ActivityKind.Internal, parent, startTime: appendStarted);
        if (activity is { IsAllDataRequested: true })
        {
            activity.SetTag(TenantAttribute, tenant);
            activity.SetTag(SequenceAttribute, sequence);
            activity.SetTag(EventIdAttribute, e.Id);
            activity.SetTag(EventTypeAttribute, e.Type);
        }
    }

    private static bool IsHex(string value)
    {
        foreach (var c in value)
        {
            if (!char.IsAsciiHexDigitLower(c) && !char.IsAsciiDigit(c))
            {
                return false;
            }
        }

        return true;
    }
}

using System.Diagnostics.Metrics;

namespace AgentSecurity.Grains.Telemetry;

/// <summary>
/// The kernel's one meter, made by the silo's <see cref="IMeterFactory"/> (so each silo of a test cluster counts its own).
/// Counters on the check path (a few nanoseconds each); histograms only where a check already waits for storage.
/// </summary>
public sealed class AgentSecurityMetrics
{
    public const string MeterName = "AgentSecurity";

    public AgentSecurityMetrics(IMeterFactory meters)
    {
        var meter = meters.Create(MeterName, typeof(AgentSecurityMetrics).Assembly.GetName().Version?.ToString());
        Checks = meter.CreateCounter<long>("agentsec.checks", unit: "{check}", description: "Checks decided, by reason");
        GrantsApplied = meter.CreateCounter<long>("agentsec.grants.applied", unit: "{grant}", description: "Grants installed");
        GrantsRefused = meter.CreateCounter<long>("agentsec.grants.refused", unit: "{grant}", description: "Grants refused, by reason");
        AuditEventsAppended = meter.CreateCounter<long>("agentsec.audit.appended", unit: "{event}", description: "Security events appended to audit logs");
        DetectionsFired = meter.CreateCounter<long>("agentsec.audit.detections", unit: "{alert}", description: "Detection rules fired, by rule");
        MeteringWaits = meter.CreateCounter<long>("agentsec.quota.waits", unit: "{check}", description: "Checks whose metering waited for storage or the tenant, by cause");
        QuotaRenewals = meter.CreateCounter<long>("agentsec.quota.renewals", unit: "{write}", description: "Quota chunks reserved in the background");
        Executions = meter.CreateCounter<long>("agentsec.executions", unit: "{execution}", description: "Executions ended, by runtime and result");
        CallsRefused = meter.CreateCounter<long>("agentsec.calls.refused", unit: "{call}", description: "Client calls the trust boundary refused, by reason");
        FramesRefused = meter.CreateCounter<long>("agentsec.boundary.frames_refused", unit: "{message}", description: "Messages a client sent the gateway that were dropped before the silo read them, by reason");
        SessionsVerified = meter.CreateCounter<long>("agentsec.sessions.verified", unit: "{session}", description: "Sessions whose signature a silo verified (once per session and silo)");
        DenialRecordDuration = meter.CreateHistogram("agentsec.audit.denial.record.duration", unit: "ms",
            description: "How long a denial waited for its event to be in the tenant's queue (answered unavailable if it could not be)",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 25, 50, 100, 250, 500, 1_000, 2_500, 5_000] });
        EventsPerQueueWrite = meter.CreateHistogram<int>("agentsec.audit.queue.write.events", unit: "{event}",
            description: "Security events per write to a tenant's queue (one queue message; publishers that wait for a write share the next)",
            advice: new InstrumentAdvice<int> { HistogramBucketBoundaries = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512] });
        QueueWriteDuration = meter.CreateHistogram("agentsec.audit.queue.write.duration", unit: "ms",
            description: "How long one write to a tenant's queue took, by whether it succeeded: the storage's share of a denial's recording",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 25, 50, 100, 250, 500, 1_000, 2_500, 5_000] });
    }

    /// <summary>
    /// Checks decided, by <c>reason</c> (<c>allowed</c> or the denial code). An agent's allowed checks (not its tool
    /// calls) are added with its summary of them, one measurement an interval rather than one a check (on a loaded silo
    /// the measurement cost more than the decision): up to about twice the audit's <c>AllowedSummaryInterval</c> after
    /// they were decided, since an idle agent's timer may skip a tick.
    /// </summary>
    public Counter<long> Checks { get; }

    /// <summary>Grants installed on agents.</summary>
    public Counter<long> GrantsApplied { get; }

    /// <summary>Grants refused, by <c>reason</c>.</summary>
    public Counter<long> GrantsRefused { get; }

    /// <summary>Security events appended to tenants' audit logs.</summary>
    public Counter<long> AuditEventsAppended { get; }

    /// <summary>Detection rules that fired, by <c>rule</c>.</summary>
    public Counter<long> DetectionsFired { get; }

    /// <summary>
    /// Checks whose metering waited for something outside the agent grain, by <c>cause</c>: <c>reservation</c> (a
    /// quota chunk written first), <c>lease</c> (the tenant's shared budget), <c>refresh</c> (the tenant's limits read
    /// again). Few per agent and minute when chunks and leases fit the load.
    /// </summary>
    public Counter<long> MeteringWaits { get; }

    /// <summary>Quota chunks reserved in storage in the background, while checks went on.</summary>
    public Counter<long> QuotaRenewals { get; }

    /// <summary>Executions ended, by <c>runtime</c> and <c>result</c> (<c>allowed</c> for success, else the error code).</summary>
    public Counter<long> Executions { get; }

    /// <summary>Client calls the trust boundary refused, by <c>reason</c> (<c>unauthenticated</c>, <c>forbidden</c>, <c>unavailable</c>).</summary>
    public Counter<long> CallsRefused { get; }

    /// <summary>Sessions verified by signature: once per session and silo; then each call is a lookup.</summary>
    public Counter<long> SessionsVerified { get; }

    /// <summary>Messages from clients dropped at the gateway (<c>Boundary/Frames</c>): forged senders, answers to calls never made to the client.</summary>
    public Counter<long> FramesRefused { get; }

    /// <summary>Milliseconds a denial (a check's or a tool call's) waited for its recording, by <c>recorded</c> (true, or false for <c>unavailable</c>).</summary>
    public Histogram<double> DenialRecordDuration { get; }

    /// <summary>Security events per queue write: above 1 when denials and other events of a tenant share writes.</summary>
    public Histogram<int> EventsPerQueueWrite { get; }

    public void RecordDenialRecording(TimeSpan waited, bool recorded) =>
        DenialRecordDuration.Record(waited.TotalMilliseconds, new KeyValuePair<string, object?>("recorded", recorded));

    /// <summary>Milliseconds per queue write, by <c>written</c>: what storage takes of <see cref="DenialRecordDuration"/>.</summary>
    public Histogram<double> QueueWriteDuration { get; }

    public void RecordQueueWrite(int events) => EventsPerQueueWrite.Record(events);

    public void RecordQueueWriteDuration(TimeSpan took, bool written) =>
        QueueWriteDuration.Record(took.TotalMilliseconds, new KeyValuePair<string, object?>("written", written));

    public void RecordCallRefused(string reason) => CallsRefused.Add(1, new KeyValuePair<string, object?>("reason", reason));

    public void RecordExecution(string runtime, string result) =>
        Executions.Add(1, new KeyValuePair<string, object?>("runtime", runtime), new KeyValuePair<string, object?>("result", result));

    public void RecordMeteringWait(string cause) => MeteringWaits.Add(1, new KeyValuePair<string, object?>("cause", cause));

    public void RecordCheck(string reason) => Checks.Add(1, new KeyValuePair<string, object?>("reason", reason));

    /// <summary>Allowed checks counted together: an agent's summary of them, or the host calls' local path.</summary>
    public void RecordAllowedChecks(long count)
    {
        if (count > 0)
        {
            Checks.Add(count, new KeyValuePair<string, object?>("reason", Grants.ReasonCodes.Allowed));
        }
    }

    public void RecordRefusedGrant(string reason) => GrantsRefused.Add(1, new KeyValuePair<string, object?>("reason", reason));
}

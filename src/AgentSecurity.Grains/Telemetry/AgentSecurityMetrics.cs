using System.Diagnostics.Metrics;

namespace AgentSecurity.Grains.Telemetry;

/// <summary>The kernel's one meter. Counters only: each costs a few nanoseconds on the check path.</summary>
public static class AgentSecurityMetrics
{
    public const string MeterName = "AgentSecurity";

    private static readonly Meter Meter = new(MeterName, typeof(AgentSecurityMetrics).Assembly.GetName().Version?.ToString());

    /// <summary>Checks decided, by <c>reason</c> (<c>allowed</c> or the denial code).</summary>
    public static readonly Counter<long> Checks = Meter.CreateCounter<long>("agentsec.checks", unit: "{check}", description: "Checks decided, by reason");

    /// <summary>Grants installed on agents.</summary>
    public static readonly Counter<long> GrantsApplied = Meter.CreateCounter<long>("agentsec.grants.applied", unit: "{grant}", description: "Grants installed");

    /// <summary>Grants refused, by <c>reason</c>.</summary>
    public static readonly Counter<long> GrantsRefused = Meter.CreateCounter<long>("agentsec.grants.refused", unit: "{grant}", description: "Grants refused, by reason");

    /// <summary>Security events appended to tenants' audit logs.</summary>
    public static readonly Counter<long> AuditEventsAppended = Meter.CreateCounter<long>("agentsec.audit.appended", unit: "{event}", description: "Security events appended to audit logs");

    /// <summary>Detection rules that fired, by <c>rule</c>.</summary>
    public static readonly Counter<long> DetectionsFired = Meter.CreateCounter<long>("agentsec.audit.detections", unit: "{alert}", description: "Detection rules fired, by rule");

    /// <summary>
    /// Checks whose metering waited for something outside the agent grain, by <c>cause</c>: <c>reservation</c> (a
    /// quota chunk written first), <c>lease</c> (the tenant's shared budget), <c>refresh</c> (the tenant's limits read
    /// again, or the agent's memory index loaded). Few per agent and minute when chunks and leases fit the load.
    /// </summary>
    public static readonly Counter<long> MeteringWaits = Meter.CreateCounter<long>("agentsec.quota.waits", unit: "{check}", description: "Checks whose metering waited for storage or the tenant, by cause");

    /// <summary>Quota chunks reserved in storage in the background, while checks went on.</summary>
    public static readonly Counter<long> QuotaRenewals = Meter.CreateCounter<long>("agentsec.quota.renewals", unit: "{write}", description: "Quota chunks reserved in the background");

    /// <summary>Executions ended, by <c>runtime</c> and <c>result</c> (<c>allowed</c> for success, else the error code).</summary>
    public static readonly Counter<long> Executions = Meter.CreateCounter<long>("agentsec.executions", unit: "{execution}", description: "Executions ended, by runtime and result");

    public static void RecordExecution(string runtime, string result) =>
        Executions.Add(1, new KeyValuePair<string, object?>("runtime", runtime), new KeyValuePair<string, object?>("result", result));

    public static void RecordMeteringWait(string cause) => MeteringWaits.Add(1, new KeyValuePair<string, object?>("cause", cause));

    public static void RecordCheck(string reason) => Checks.Add(1, new KeyValuePair<string, object?>("reason", reason));

    public static void RecordRefusedGrant(string reason) => GrantsRefused.Add(1, new KeyValuePair<string, object?>("reason", reason));
}

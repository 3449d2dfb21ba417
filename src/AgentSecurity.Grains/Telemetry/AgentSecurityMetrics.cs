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

    /// <summary>Executions ended, by <c>runtime</c> and <c>result</c> (<c>allowed</c> for success, else the error code).</summary>
    public static readonly Counter<long> Executions = Meter.CreateCounter<long>("agentsec.executions", unit: "{execution}", description: "Executions ended, by runtime and result");

    public static void RecordExecution(string runtime, string result) =>
        Executions.Add(1, new KeyValuePair<string, object?>("runtime", runtime), new KeyValuePair<string, object?>("result", result));

    public static void RecordCheck(string reason) => Checks.Add(1, new KeyValuePair<string, object?>("reason", reason));

    public static void RecordRefusedGrant(string reason) => GrantsRefused.Add(1, new KeyValuePair<string, object?>("reason", reason));
}

namespace AgentSecurity.Abstractions.Audit;

/// <summary>The stable <c>type</c> strings of security events. Add types; never rename them.</summary>
public static class SecurityEventTypes
{
    public const string CheckDenied = "check.denied";

    /// <summary>Allowed checks of one agent and capability within one second, summarised (<c>count</c>).</summary>
    public const string ChecksAllowed = "check.allowed";

    /// <summary>A check denied by a quota (<c>quota_exceeded</c> or <c>rate_limited</c>).</summary>
    public const string QuotaExceeded = "quota.exceeded";

    public const string GrantApplied = "grant.applied";
    public const string GrantRefused = "grant.refused";
    public const string GrantRevoked = "grant.revoked";
    public const string TenantCreated = "tenant.created";
    public const string AdminRegistered = "admin.registered";
    public const string RootRotated = "root.rotated";
    public const string LimitsSet = "limits.set";
    public const string AgentQuarantined = "agent.quarantined";
    public const string AgentReleased = "agent.released";
    public const string RequestCreated = "request.created";
    public const string RequestApproved = "request.approved";

    /// <summary>An access document (who may call for the tenant, with which rights) stored; its revocation is a <c>grant.revoked</c>.</summary>
    public const string AccessApplied = "access.applied";

    /// <summary>An execution that hit a limit or tried what it may not (its reason is the execution's error code).</summary>
    public const string SandboxViolation = "sandbox.violation";

    /// <summary>An execution that succeeded; the resource is the SHA-256 of its code.</summary>
    public const string ExecutionCompleted = "execution.completed";

    /// <summary>An execution refused before it ran, failed by itself (<c>execution_failed</c>), or stopped by the kill switch.</summary>
    public const string ExecutionFailed = "execution.failed";

    public const string AlertRaised = "alert.raised";

    /// <summary>A tool call a gateway was allowed to forward (<see cref="ToolEvent"/>).</summary>
    public const string ToolCalled = "tool.called";

    /// <summary>A tool call refused: by the tool's rules, or by a resource its arguments name.</summary>
    public const string ToolDenied = "tool.denied";

    /// <summary>A tool whose definition changed while a gateway served it; the gateway refuses it from then on.</summary>
    public const string ToolChanged = "tool.changed";
}

using Microsoft.Extensions.Logging;

namespace AgentSecurity.Grains.Telemetry;

/// <summary>The kernel's log messages, with fixed event ids that operators can alert on.</summary>
internal static partial class Log
{
    [LoggerMessage(EventId = 1001, Level = LogLevel.Information, Message = "Grant {GrantId} applied to {Agent} (version {Version}, signed by {SignedBy})")]
    public static partial void GrantApplied(ILogger logger, string grantId, string agent, long version, string signedBy);

    [LoggerMessage(EventId = 1002, Level = LogLevel.Warning, Message = "Grant refused for {Agent}: {Reason} ({Detail})")]
    public static partial void GrantRefused(ILogger logger, string agent, string reason, string detail);

    [LoggerMessage(EventId = 1003, Level = LogLevel.Critical, Message = "Stored grant of {Agent} failed to load and is not used; every check is denied: {Reason}")]
    public static partial void StoredGrantRejected(ILogger logger, string agent, string reason);

    [LoggerMessage(EventId = 1007, Level = LogLevel.Warning, Message = "The grant text of {Agent} could not be held as what rebuilds it; it is held compressed")]
    public static partial void GrantTextNotRebuilt(ILogger logger, Exception exception, string agent);

    [LoggerMessage(EventId = 1004, Level = LogLevel.Error, Message = "Could not persist a change of {Agent}; it is not made, and what was in force stays")]
    public static partial void AgentNotPersisted(ILogger logger, Exception exception, string agent);

    [LoggerMessage(EventId = 2001, Level = LogLevel.Information, Message = "Tenant {Tenant} created with {RootCount} root DIDs")]
    public static partial void TenantCreated(ILogger logger, string tenant, int rootCount);

    [LoggerMessage(EventId = 2002, Level = LogLevel.Warning, Message = "Tenant document refused for {Tenant}: {Reason} ({Detail})")]
    public static partial void TenantRefused(ILogger logger, string tenant, string reason, string detail);

    [LoggerMessage(EventId = 2003, Level = LogLevel.Error, Message = "Could not persist the issuer state of {Tenant}")]
    public static partial void IssuerNotPersisted(ILogger logger, Exception exception, string tenant);

    [LoggerMessage(EventId = 2004, Level = LogLevel.Critical, Message = "Stored trust documents of tenant {Tenant} failed verification; the issuer refuses everything until repaired")]
    public static partial void IssuerStateRejected(ILogger logger, string tenant);

    [LoggerMessage(EventId = 2005, Level = LogLevel.Information, Message = "Admin {AdminDid} registered for tenant {Tenant} until {ExpiresAt}")]
    public static partial void AdminRegistered(ILogger logger, string tenant, string adminDid, DateTimeOffset expiresAt);

    [LoggerMessage(EventId = 2006, Level = LogLevel.Warning, Message = "Root of tenant {Tenant} rotated from {OldRoot} to {NewRoot}")]
    public static partial void RootRotated(ILogger logger, string tenant, string oldRoot, string newRoot);

    [LoggerMessage(EventId = 2007, Level = LogLevel.Warning, Message = "Grant {GrantId} of tenant {Tenant} revoked with {Count} grant(s) in all, by {RevokedBy}")]
    public static partial void GrantsRevoked(ILogger logger, string tenant, string grantId, int count, string revokedBy);

    [LoggerMessage(EventId = 2008, Level = LogLevel.Error, Message = "Revocation of {GrantId} in tenant {Tenant} could not be delivered to {Agent}; it applies when the agent next activates")]
    public static partial void RevocationNotDelivered(ILogger logger, Exception exception, string tenant, string agent, string grantId);

    [LoggerMessage(EventId = 2009, Level = LogLevel.Information, Message = "Permission request {RequestId} in tenant {Tenant}: {Agent} asks for {Capability}")]
    public static partial void PermissionRequested(ILogger logger, string tenant, string requestId, string agent, string capability);

    [LoggerMessage(EventId = 2010, Level = LogLevel.Information, Message = "Permission request {RequestId} in tenant {Tenant} answered for {Agent} by grant {GrantId}")]
    public static partial void RequestApproved(ILogger logger, string tenant, string requestId, string agent, string grantId);

    [LoggerMessage(EventId = 1005, Level = LogLevel.Warning, Message = "{Agent} is now {State}: {Reason}")]
    public static partial void QuarantineChanged(ILogger logger, string agent, string state, string reason);

    [LoggerMessage(EventId = 1006, Level = LogLevel.Warning, Message = "{Agent}: grant {GrantId} revoked; checks under it are denied")]
    public static partial void AgentGrantRevoked(ILogger logger, string agent, string grantId);

    [LoggerMessage(EventId = 3001, Level = LogLevel.Error, Message = "Quota reservation of {Owner} could not be stored; the check is denied")]
    public static partial void QuotaNotPersisted(ILogger logger, Exception exception, string owner);

    [LoggerMessage(EventId = 3002, Level = LogLevel.Information, Message = "Tenant {Tenant} limits set: {Limits}")]
    public static partial void TenantLimitsSet(ILogger logger, string tenant, string limits);

    [LoggerMessage(EventId = 3004, Level = LogLevel.Warning, Message = "New limits of tenant {Tenant} could not be announced to {Agent}; it meters against the limits it read until it reads them again")]
    public static partial void TenantLimitsNotDelivered(ILogger logger, Exception exception, string tenant, string agent);

    [LoggerMessage(EventId = 3005, Level = LogLevel.Warning, Message = "The quota grain of tenant {Tenant} found the tenant's limits changed without being told (the issuer's call was lost); it meters against the new ones and tells its agents now")]
    public static partial void TenantLimitsRecovered(ILogger logger, string tenant);

    [LoggerMessage(EventId = 3003, Level = LogLevel.Error, Message = "Memory store of {Agent} failed")]
    public static partial void MemoryStoreFailed(ILogger logger, Exception exception, string agent);

    [LoggerMessage(EventId = 6001, Level = LogLevel.Error, Message = "Workspace of {Agent} is not available on this silo")]
    public static partial void WorkspaceUnavailable(ILogger logger, Exception exception, string agent);

    [LoggerMessage(EventId = 6002, Level = LogLevel.Error, Message = "The {Runtime} runtime failed running code of {Agent}")]
    public static partial void RuntimeFailed(ILogger logger, Exception exception, string runtime, string agent);

    [LoggerMessage(EventId = 6003, Level = LogLevel.Warning, Message = "An execution of {Agent} in {Runtime} did not stop {Grace} after its deadline; its slot stays taken until it does")]
    public static partial void ExecutionAbandoned(ILogger logger, string agent, string runtime, TimeSpan grace);

    [LoggerMessage(EventId = 6004, Level = LogLevel.Information, Message = "Workspace of {Agent} removed from this machine after {Idle} without executions")]
    public static partial void WorkspaceRemoved(ILogger logger, string agent, TimeSpan idle);

    [LoggerMessage(EventId = 6005, Level = LogLevel.Warning, Message = "Workspace of {Agent} could not be removed; the next sweep tries again")]
    public static partial void WorkspaceNotRemoved(ILogger logger, Exception exception, string agent);

    [LoggerMessage(EventId = 6006, Level = LogLevel.Error, Message = "Sweeping idle workspaces failed; the next sweep tries again")]
    public static partial void WorkspaceSweepFailed(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 6010, Level = LogLevel.Error, Message = "The grain's side of the local host-call checks of {Agent} failed (a picture or the allowed calls' counts for the audit); its host calls are decided by grain calls until a picture is published again")]
    public static partial void HostCallDecisionsFailed(ILogger logger, Exception exception, string agent);

    [LoggerMessage(EventId = 6011, Level = LogLevel.Error, Message = "Stopping an execution of {Agent} in {Runtime}: a callback on its token failed; the execution is stopped, the agent's other executions are stopped as well")]
    public static partial void ExecutionStopFailed(ILogger logger, Exception exception, string agent, string runtime);

    [LoggerMessage(EventId = 4001, Level = LogLevel.Error, Message = "Audit stream of tenant {Tenant} reported an error")]
    public static partial void AuditStreamError(ILogger logger, Exception exception, string tenant);

    [LoggerMessage(EventId = 4002, Level = LogLevel.Error, Message = "Audit log of tenant {Tenant} could not be written; the stream delivers again")]
    public static partial void AuditAppendFailed(ILogger logger, Exception exception, string tenant);

    [LoggerMessage(EventId = 4003, Level = LogLevel.Warning, Message = "Detection rule {Rule} fired in tenant {Tenant} for agent {Agent} ({Count} events)")]
    public static partial void DetectionFired(ILogger logger, string tenant, string rule, string agent, long count);

    [LoggerMessage(EventId = 4004, Level = LogLevel.Error, Message = "Security events of {Owner} could not be published yet; they stay in its outbox")]
    public static partial void AuditPublishFailed(ILogger logger, Exception exception, string owner);

    [LoggerMessage(EventId = 7001, Level = LogLevel.Warning, Message = "Call to {Method} refused: {Reason} ({Detail})")]
    public static partial void CallRefused(ILogger logger, string method, string reason, string detail);

    [LoggerMessage(EventId = 7002, Level = LogLevel.Warning, Message = "A silo could not be told that the callers of {Tenant} changed; its copy ages out by itself")]
    public static partial void CallerCacheNotTold(ILogger logger, Exception exception, string tenant);

    [LoggerMessage(EventId = 7003, Level = LogLevel.Warning, Message = "This silo's copy of who may call could not subscribe to changes yet; it ages out by itself meanwhile")]
    public static partial void CallerCacheNotSubscribed(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 7004, Level = LogLevel.Warning, Message = "Dropped a message from client {Client} at the gateway: {Reason} ({Direction} {Id}; its {Refused}th refused)")]
    public static partial void FrameRefused(ILogger logger, string client, string reason, string direction, long id, int refused);

    [LoggerMessage(EventId = 4005, Level = LogLevel.Information, Message = "A subscriber of tenant {Tenant}'s events could not be reached and was dropped; it catches up when it subscribes again")]
    public static partial void SubscriberDropped(ILogger logger, Exception exception, string tenant);

    [LoggerMessage(EventId = 4006, Level = LogLevel.Information, Message = "A subscriber of tenant {Tenant}'s events ({Principal}) no longer holds the audit right and was dropped")]
    public static partial void SubscriberNoLongerAllowed(ILogger logger, string tenant, string? principal);

    [LoggerMessage(EventId = 4007, Level = LogLevel.Warning, Message = "The audit key is ephemeral (no AGENTSEC_AUDIT_KEY / AgentSecurity:Audit:KeyFile); checkpoints signed by {Did} verify only while this silo runs")]
    public static partial void EphemeralAuditKey(ILogger logger, string did);

    [LoggerMessage(EventId = 4008, Level = LogLevel.Warning, Message = "Stream provider {Provider} delivers to the audit namespace of tenant {Tenant}: only the kernel's provider reaches the log, so what it sends is dropped")]
    public static partial void ForeignAuditStream(ILogger logger, string provider, string tenant);
}

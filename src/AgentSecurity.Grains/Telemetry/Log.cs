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

    [LoggerMessage(EventId = 1004, Level = LogLevel.Error, Message = "Could not persist the grant of {Agent}; the previous grant stays in force")]
    public static partial void GrantNotPersisted(ILogger logger, Exception exception, string agent);

    [LoggerMessage(EventId = 2001, Level = LogLevel.Information, Message = "Tenant {Tenant} created with {RootCount} root DIDs")]
    public static partial void TenantCreated(ILogger logger, string tenant, int rootCount);

    [LoggerMessage(EventId = 2002, Level = LogLevel.Warning, Message = "Tenant document refused for {Tenant}: {Reason} ({Detail})")]
    public static partial void TenantRefused(ILogger logger, string tenant, string reason, string detail);

    [LoggerMessage(EventId = 2003, Level = LogLevel.Error, Message = "Could not persist the issuer state of {Tenant}")]
    public static partial void IssuerNotPersisted(ILogger logger, Exception exception, string tenant);
}

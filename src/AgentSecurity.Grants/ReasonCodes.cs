namespace AgentSecurity.Grants;

/// <summary>
/// The stable reason and error codes of <c>contracts/cli.md</c>. Outside tools match on these strings:
/// add codes, never rename them.
/// </summary>
public static class ReasonCodes
{
    // Decisions.
    public const string Allowed = "allowed";
    public const string NoGrant = "no_grant";
    public const string CapabilityNotGranted = "capability_not_granted";
    public const string OutOfScope = "out_of_scope";
    public const string NotYetValid = "not_yet_valid";
    public const string Expired = "expired";
    public const string Revoked = "revoked";
    public const string QuotaExceeded = "quota_exceeded";
    public const string RateLimited = "rate_limited";
    public const string Quarantined = "quarantined";
    public const string Suspended = "suspended";
    public const string UnknownCapability = "unknown_capability";
    public const string IsolationForbids = "isolation_forbids";
    public const string Unavailable = "unavailable";

    // Documents.
    public const string MalformedJson = "malformed_json";
    public const string DuplicateMember = "duplicate_member";
    public const string UnknownMember = "unknown_member";
    public const string InvalidField = "invalid_field";
    public const string TooLarge = "too_large";
    public const string UnsupportedType = "unsupported_type";
    public const string InvalidDid = "invalid_did";
    public const string InvalidSignatureEncoding = "invalid_signature_encoding";
    public const string BadSignature = "bad_signature";
    public const string UntrustedSigner = "untrusted_signer";
    public const string Replayed = "replayed";
    public const string Stale = "stale";
    public const string Escalation = "escalation";
    public const string ChainTooDeep = "chain_too_deep";
    public const string UnknownTenant = "unknown_tenant";
    public const string TenantExists = "tenant_exists";
    public const string TenantMismatch = "tenant_mismatch";

    // Executions.
    public const string FuelExhausted = "fuel_exhausted";
    public const string Timeout = "timeout";
    public const string MemoryLimit = "memory_limit";
    public const string OutputLimit = "output_limit";
    public const string ProcessLimit = "process_limit";
    public const string SandboxViolation = "sandbox_violation";
    public const string BadModule = "bad_module";

    // Callers and tools.
    public const string Unauthenticated = "unauthenticated";
    public const string Forbidden = "forbidden";
    public const string ApprovalRequired = "approval_required";
    public const string ToolChanged = "tool_changed";

    // Added by this project.

    /// <summary>Agent code ended with an error of its own: a wasm trap, an uncaught exception, a non-zero exit.</summary>
    public const string ExecutionFailed = "execution_failed";

    /// <summary>A grant applied to an agent other than the one it names.</summary>
    public const string AgentMismatch = "agent_mismatch";

    /// <summary>A check's resource is not in normal form (<c>..</c>, <c>//</c>, NUL, percent-escapes, ...).</summary>
    public const string InvalidResource = "invalid_resource";

    /// <summary>A check request that is malformed in itself (negative amount, missing capability).</summary>
    public const string InvalidRequest = "invalid_request";

    /// <summary>A revocation (or delegation) names a grant id the tenant never accepted.</summary>
    public const string UnknownGrant = "unknown_grant";

    /// <summary>A permission request that is unknown, already answered, expired, or not for this agent.</summary>
    public const string UnknownRequest = "unknown_request";

    /// <summary>A key file that cannot be read or does not match its own DID.</summary>
    public const string InvalidKey = "invalid_key";

    /// <summary>
    /// A network check for this machine or a private network (loopback, private, link-local and metadata addresses,
    /// <c>localhost</c>) that no scope of the allowing grant names literally: "any host" means the internet.
    /// </summary>
    public const string InternalAddress = "internal_address";

    /// <summary>
    /// A model call's usage was not reported (or was negative), so what it used cannot be metered: the call is charged
    /// the whole of <c>llmTokensPerHour</c>, never nothing.
    /// </summary>
    public const string UsageUnreported = "usage_unreported";
}

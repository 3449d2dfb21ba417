using System.Text.Json.Serialization;

namespace AgentSecurity.Hosting.Http.Console;

/// <summary>What the security console shows of the tenants it was asked about, read from their grains when asked.</summary>
internal sealed record ConsoleOverview(
    [property: JsonPropertyName("at")] DateTimeOffset At,
    [property: JsonPropertyName("silo")] string Silo,
    [property: JsonPropertyName("windowMinutes")] int WindowMinutes,
    [property: JsonPropertyName("tenants")] IReadOnlyList<ConsoleTenant> Tenants);

/// <summary>
/// One tenant: its recent denials by capability (per minute, oldest first), its quarantined agents, its budget use, its
/// executions running on this silo, and its log's last verification. <c>error</c> says what could not be read; what
/// could not be read is left out, never guessed.
/// </summary>
internal sealed record ConsoleTenant(
    [property: JsonPropertyName("tenant")] string Tenant,
    [property: JsonPropertyName("exists")] bool Exists,
    [property: JsonPropertyName("lastSequence")] long LastSequence,
    [property: JsonPropertyName("denials")] IReadOnlyList<ConsoleDenials> Denials,
    [property: JsonPropertyName("denialsScanned")] int DenialsScanned,
    [property: JsonPropertyName("quarantined")] IReadOnlyList<ConsoleQuarantine> Quarantined,
    [property: JsonPropertyName("budget")] IReadOnlyList<ConsoleBudget> Budget,
    [property: JsonPropertyName("executionsRunning")] int ExecutionsRunning,
    [property: JsonPropertyName("lastVerify")] ConsoleVerification? LastVerify,
    [property: JsonPropertyName("error")] string? Error);

internal sealed record ConsoleDenials(
    [property: JsonPropertyName("capability")] string Capability,
    [property: JsonPropertyName("total")] long Total,
    [property: JsonPropertyName("perMinute")] IReadOnlyList<long> PerMinute);

internal sealed record ConsoleQuarantine(
    [property: JsonPropertyName("agent")] string Agent,
    [property: JsonPropertyName("reason")] string? Reason);

internal sealed record ConsoleBudget(
    [property: JsonPropertyName("limit")] string Limit,
    [property: JsonPropertyName("value")] long Value,
    [property: JsonPropertyName("used")] long Used,
    [property: JsonPropertyName("periodSeconds")] double PeriodSeconds);

internal sealed record ConsoleVerification(
    [property: JsonPropertyName("valid")] bool Valid,
    [property: JsonPropertyName("records")] long Records,
    [property: JsonPropertyName("checkpoints")] int Checkpoints,
    [property: JsonPropertyName("firstBadSequence")] long? FirstBadSequence,
    [property: JsonPropertyName("problem")] string? Problem,
    [property: JsonPropertyName("at")] DateTimeOffset At);

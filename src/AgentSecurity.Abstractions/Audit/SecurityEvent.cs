namespace AgentSecurity.Abstractions.Audit;

/// <summary>
/// A security event: who (tenant, agent, signer), what (capability, resource), which grant, which decision and why,
/// when, on which silo, under which trace. A small closed hierarchy; <see cref="SecurityEventJson"/> gives every
/// event one stable, flat JSON form.
/// </summary>
[GenerateSerializer, Immutable, Alias("agentsec.SecurityEvent.v1")]
public abstract record SecurityEvent
{
    /// <summary>Unique per event; the audit log drops a second delivery of the same id.</summary>
    [Id(0)] public required string Id { get; init; }

    /// <summary>A <see cref="SecurityEventTypes"/> value.</summary>
    [Id(1)] public required string Type { get; init; }

    [Id(2)] public required string TenantId { get; init; }

    [Id(3)] public string? AgentId { get; init; }

    [Id(4)] public DateTimeOffset Time { get; init; }

    [Id(5)] public string? Silo { get; init; }

    /// <summary>The W3C trace id of the call that caused the event, when there was one.</summary>
    [Id(6)] public string? TraceId { get; init; }

    [Id(7)] public string? Message { get; init; }

    /// <summary>Why: a reason code of <c>contracts/cli.md</c> (or a detection rule's name for alerts).</summary>
    [Id(8)] public string? Reason { get; init; }

    /// <summary>
    /// The span, of trace <see cref="TraceId"/>, under which the kernel recorded the event, when that span was exported:
    /// the audit log's span of the record (with its sequence number) becomes its child. Carried with the event to the
    /// log, never part of its JSON form, so neither the hash chain nor the contract's event shape changes.
    /// </summary>
    [Id(9)] public string? SpanId { get; init; }
}

/// <summary>A check decided: a denial (one event each) or allowed checks summarised per agent, capability and second.</summary>
[GenerateSerializer, Immutable, Alias("agentsec.DecisionEvent.v1")]
public sealed record DecisionEvent : SecurityEvent
{
    [Id(0)] public required string Capability { get; init; }

    [Id(1)] public string? Resource { get; init; }

    [Id(2)] public string? GrantId { get; init; }

    /// <summary>How many checks the event stands for: one for a denial, the count for a summary.</summary>
    [Id(3)] public long Count { get; init; } = 1;
}

/// <summary>An administrative change or refusal: grants, tenants, admins, rotations, limits, revocations, requests.</summary>
[GenerateSerializer, Immutable, Alias("agentsec.AdministrativeEvent.v1")]
public sealed record AdministrativeEvent : SecurityEvent
{
    [Id(0)] public string? GrantId { get; init; }

    /// <summary>Who signed the document that caused it.</summary>
    [Id(1)] public string? SignerDid { get; init; }

    /// <summary>A capability, for permission requests.</summary>
    [Id(2)] public string? Capability { get; init; }

    [Id(3)] public string? Resource { get; init; }
}

/// <summary>A sandbox refused what agent code tried (a host call outside the grant, a limit hit).</summary>
[GenerateSerializer, Immutable, Alias("agentsec.SandboxEvent.v1")]
public sealed record SandboxEvent : SecurityEvent
{
    [Id(0)] public string? Capability { get; init; }

    [Id(1)] public string? Resource { get; init; }

    [Id(2)] public string? Runtime { get; init; }
}

/// <summary>
/// A tool call through a gateway: <c>tool.called</c> (allowed, forwarded), <c>tool.denied</c> (refused, with the
/// resource check that refused it when an argument did) or <c>tool.changed</c> (a definition that changed while served).
/// </summary>
[GenerateSerializer, Immutable, Alias("agentsec.ToolEvent.v1")]
public sealed record ToolEvent : SecurityEvent
{
    /// <summary>The server's name as the gateway exposes it (<c>fs</c> of <c>fs/read_file</c>).</summary>
    [Id(0)] public required string Server { get; init; }

    [Id(1)] public required string Tool { get; init; }

    [Id(2)] public string? GrantId { get; init; }

    /// <summary>The hash of the definition the call was made under (for <c>tool.changed</c>, the new one).</summary>
    [Id(3)] public string? DefinitionHash { get; init; }

    /// <summary>The capability of the resource check that refused the call, when an argument did.</summary>
    [Id(4)] public string? Capability { get; init; }

    [Id(5)] public string? Resource { get; init; }

    /// <summary>The permission request a call that needs approval waits on.</summary>
    [Id(6)] public string? RequestId { get; init; }
}

/// <summary>A detection rule fired; <see cref="SecurityEvent.Reason"/> names the rule.</summary>
[GenerateSerializer, Immutable, Alias("agentsec.AlertEvent.v1")]
public sealed record AlertEvent : SecurityEvent
{
    /// <summary>How many events made the rule fire, within its window.</summary>
    [Id(0)] public long Count { get; init; }

    /// <summary>What the rule did: <c>quarantine</c> or <c>none</c>.</summary>
    [Id(1)] public required string Action { get; init; }
}

namespace AgentSecurity.Abstractions.Audit;

/// <summary>The last <see cref="IAuditStreamGrain.VerifyAsync"/> of a tenant's log since its audit grain activated, and when it ended.</summary>
[GenerateSerializer, Immutable, Alias("agentsec.LastAuditVerification.v1")]
public sealed record LastAuditVerification
{
    [Id(0)] public required AuditVerification Verification { get; init; }

    [Id(1)] public DateTimeOffset At { get; init; }
}

namespace AgentSecurity.Audit.Chain;

/// <summary>One row of the audit log as storage holds it.</summary>
public sealed record AuditRecord(long Sequence, string EventId, string EventJson, string PreviousHash, string Hash);

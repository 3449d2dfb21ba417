namespace AgentSecurity.Grains.Permissions;

/// <summary>A member of a grant whose value differs from agent to agent: left out of the shared <see cref="GrantTextTemplate"/>.</summary>
internal enum GrantTextSlot : byte
{
    AgentId,
    GrantId,
    IssuedAt,
    NotBefore,
    ExpiresAt,
    AgentDid,
    ParentGrantId,
    Signature,
}

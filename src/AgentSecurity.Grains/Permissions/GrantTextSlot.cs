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

internal static class GrantTextSlots
{
    public static bool TryParse(string member, out GrantTextSlot slot)
    {
        (var known, slot) = member switch
        {
            "agentId" => (true, GrantTextSlot.AgentId),
            "grantId" => (true, GrantTextSlot.GrantId),
            "issuedAt" => (true, GrantTextSlot.IssuedAt),
            "notBefore" => (true, GrantTextSlot.NotBefore),
            "expiresAt" => (true, GrantTextSlot.ExpiresAt),
            "agentDid" => (true, GrantTextSlot.AgentDid),
            "parentGrantId" => (true, GrantTextSlot.ParentGrantId),
            "signature" => (true, GrantTextSlot.Signature),
            _ => (false, default(GrantTextSlot)),
        };
        return known;
    }
}

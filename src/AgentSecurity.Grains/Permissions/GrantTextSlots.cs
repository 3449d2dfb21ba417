namespace AgentSecurity.Grains.Permissions;

/// <summary>The grant members that are <see cref="GrantTextSlot"/>s, by name.</summary>
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

using AgentSecurity.Grants.Documents;

namespace AgentSecurity.Abstractions;

/// <summary>
/// The key of an agent grain: <c>tenant/agent</c>. Neither identifier can contain <c>/</c>, so the split is
/// unambiguous, and a key that fails <see cref="TryParse"/> names no agent at all.
/// </summary>
public static class AgentKey
{
    public static string Of(string tenantId, string agentId)
    {
        if (!Identifiers.IsTenantId(tenantId))
        {
            throw new ArgumentException($"\"{tenantId}\" is not a tenant id", nameof(tenantId));
        }

        if (!Identifiers.IsAgentId(agentId))
        {
            throw new ArgumentException($"\"{agentId}\" is not an agent id", nameof(agentId));
        }

        return $"{tenantId}/{agentId}";
    }

    public static bool TryParse(string? key, out string tenantId, out string agentId)
    {
        tenantId = agentId = string.Empty;
        var slash = key?.IndexOf('/', StringComparison.Ordinal) ?? -1;
        if (slash < 0)
        {
            return false;
        }

        tenantId = key![..slash];
        agentId = key[(slash + 1)..];
        return Identifiers.IsTenantId(tenantId) && Identifiers.IsAgentId(agentId);
    }
}

namespace AgentSecurity.Grants.Access;

/// <summary>What a principal may do with a tenant's agents through the cluster (<c>agentsec.access.v1</c>'s <c>allow</c>).</summary>
[Flags]
public enum AccessRights
{
    None = 0,

    /// <summary>Check, explain, what-if, status.</summary>
    Check = 1,

    /// <summary>Run agent code.</summary>
    Execute = 2,

    /// <summary>An agent's memory store.</summary>
    Memory = 4,

    /// <summary>Send signed documents: grants, elevations, revocations, quarantines, limits, admins, access.</summary>
    Apply = 8,

    /// <summary>Read, verify, export, prove, and subscribe to a tenant's events.</summary>
    Audit = 16,

    /// <summary>Create and list permission requests.</summary>
    Requests = 32,

    All = Check | Execute | Memory | Apply | Audit | Requests,
}

public static class AccessRightNames
{
    private static readonly (string Name, AccessRights Right)[] Names =
    [
        ("check", AccessRights.Check), ("execute", AccessRights.Execute), ("memory", AccessRights.Memory),
        ("apply", AccessRights.Apply), ("audit", AccessRights.Audit), ("requests", AccessRights.Requests),
    ];

    /// <summary>The wire names, in the contract's order.</summary>
    public static IEnumerable<string> All => Names.Select(n => n.Name);

    public static bool TryParse(string? name, out AccessRights right)
    {
        foreach (var (text, value) in Names)
        {
            if (string.Equals(text, name, StringComparison.Ordinal))
            {
                right = value;
                return true;
            }
        }

        right = AccessRights.None;
        return false;
    }

    /// <summary>The rights as their wire names, comma-separated (<c>check,audit</c>).</summary>
    public static string Describe(AccessRights rights) =>
        rights == AccessRights.None ? "none" : string.Join(',', Names.Where(n => rights.HasFlag(n.Right)).Select(n => n.Name));
}

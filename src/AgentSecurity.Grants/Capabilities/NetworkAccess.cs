namespace AgentSecurity.Grants.Capabilities;

/// <summary>Levels of <c>network</c>. Not a chain: <see cref="Full"/> is inbound and outbound together.</summary>
[Flags]
#pragma warning disable CA1714 // "Access" reads better than a plural here.
public enum NetworkAccess
#pragma warning restore CA1714
{
    None = 0,
    Inbound = 1,
    Outbound = 2,
    Full = Inbound | Outbound,
}

namespace AgentSecurity.Grants.Capabilities;

/// <summary>The wire spellings of levels and isolation, shared by parsing and writing documents.</summary>
public static class CapabilityNames
{
    public static readonly IReadOnlyDictionary<string, AccessLevel> AccessLevels = new Dictionary<string, AccessLevel>(StringComparer.Ordinal)
    {
        ["none"] = AccessLevel.None,
        ["read"] = AccessLevel.Read,
        ["write"] = AccessLevel.Write,
        ["full"] = AccessLevel.Full,
    };

    public static readonly IReadOnlyDictionary<string, NetworkAccess> NetworkLevels = new Dictionary<string, NetworkAccess>(StringComparer.Ordinal)
    {
        ["none"] = NetworkAccess.None,
        ["inbound"] = NetworkAccess.Inbound,
        ["outbound"] = NetworkAccess.Outbound,
        ["full"] = NetworkAccess.Full,
    };

    public static readonly IReadOnlyDictionary<string, IsolationLevel> IsolationLevels = new Dictionary<string, IsolationLevel>(StringComparer.Ordinal)
    {
        ["sandboxed"] = IsolationLevel.Sandboxed,
        ["native"] = IsolationLevel.Native,
        ["external"] = IsolationLevel.External,
    };

    public static string Name(AccessLevel level) => AccessLevels.First(p => p.Value == level).Key;

    public static string Name(NetworkAccess level) => NetworkLevels.First(p => p.Value == level).Key;

    public static string Name(IsolationLevel level) => IsolationLevels.First(p => p.Value == level).Key;
}

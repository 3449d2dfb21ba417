namespace AgentSecurity.Grants.Capabilities;

/// <summary>Where an agent's code may run. Ordered from strictest to loosest.</summary>
public enum IsolationLevel
{
    /// <summary>WebAssembly or JavaScript in the cluster's sandboxes only.</summary>
    Sandboxed = 0,

    /// <summary>Also a native process under bubblewrap.</summary>
    Native = 1,

    /// <summary>The agent runs outside the cluster; only checks are answered.</summary>
    External = 2,
}

namespace AgentSecurity.Grants.Policy;

/// <summary>What a check's resource names, which decides its normal form.</summary>
public enum ResourceKind
{
    /// <summary>An absolute path: <c>/workspace/out.txt</c>.</summary>
    Path,

    /// <summary>A memory key: <c>notes/today</c>.</summary>
    Key,

    /// <summary>A host and port: <c>api.example.com:443</c>.</summary>
    Host,

    /// <summary>An exact tool: <c>server/tool</c>.</summary>
    Tool,
}

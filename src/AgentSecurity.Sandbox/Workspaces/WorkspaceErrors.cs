namespace AgentSecurity.Sandbox.Workspaces;

/// <summary>Error codes of host file operations that the grant allowed but the workspace could not do.</summary>
public static class WorkspaceErrors
{
    /// <summary>No such file (or it is a directory).</summary>
    public const string NotFound = "not_found";
}

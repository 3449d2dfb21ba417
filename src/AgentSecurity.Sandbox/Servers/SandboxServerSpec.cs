using System.Text.RegularExpressions;
using AgentSecurity.Grants;
using AgentSecurity.Sandbox.Workspaces;

namespace AgentSecurity.Sandbox.Servers;

/// <summary>
/// One server to start for an agent: a program already on the machine (visible in the sandbox under <c>/usr</c> or a
/// bind), its arguments and environment, and the agent's workspace, user and limits, exactly as the agent's native
/// executions get them.
/// </summary>
public sealed partial record SandboxServerSpec
{
    /// <summary>
    /// Paths the sandbox makes itself (the system, <c>/proc</c>, <c>/dev</c>, <c>/tmp</c>, the workspace, the runtime's
    /// own files); a bind may be at none of them or under them, nor at <c>/</c>.
    /// </summary>
    public static readonly IReadOnlyList<string> ReservedPaths =
        ["/usr", "/bin", "/sbin", "/lib", "/lib64", "/lib32", "/libx32", "/etc", "/proc", "/dev", "/tmp", AgentWorkspace.Mount, "/run/agentsec"];

    /// <summary>The program, as an absolute path inside the sandbox (<c>/usr/bin/node</c>).</summary>
    public required string Command { get; init; }

    public IReadOnlyList<string> Arguments { get; init; } = [];

    /// <summary>The server's own files, read-only.</summary>
    public IReadOnlyList<SandboxBind> ReadOnlyBinds { get; init; } = [];

    /// <summary>The server's whole environment: nothing of the silo's is inherited, not even <c>PATH</c>.</summary>
    public IReadOnlyDictionary<string, string> Environment { get; init; } = new Dictionary<string, string>();

    /// <summary>The agent's workspace, seen inside as <c>/workspace</c>; its owner is the user the server runs as.</summary>
    public required AgentWorkspace Workspace { get; init; }

    /// <summary>How the server sees the workspace, as the agent's grant allows a native process to (<c>AgentExecutions.WorkspaceAccessOf</c>).</summary>
    public WorkspaceAccess WorkspaceAccess { get; init; } = WorkspaceAccess.None;

    public SandboxServerLimits Limits { get; init; } = new();

    /// <summary>What is wrong with this spec, one sentence each; empty when it is valid. Whether binds exist is checked at start.</summary>
    public IReadOnlyList<string> Problems()
    {
        var problems = new List<string>(Limits.Problems());
        if (!IsSandboxPath(Command))
        {
            problems.Add($"Command must be an absolute path in normal form inside the sandbox, not \"{Command}\"");
        }

        if (Arguments.Any(a => a.Contains('\0', StringComparison.Ordinal)))
        {
            problems.Add("an argument contains NUL");
        }

        foreach (var bind in ReadOnlyBinds)
        {
            if (!Path.IsPathFullyQualified(bind.HostPath) || bind.HostPath.Contains('\0', StringComparison.Ordinal))
            {
                problems.Add($"a bind's HostPath must be an absolute path, not \"{bind.HostPath}\"");
            }

            if (!IsSandboxPath(bind.SandboxPath) || bind.SandboxPath == "/" || ReservedPaths.Any(r => bind.SandboxPath == r || bind.SandboxPath.StartsWith(r + "/", StringComparison.Ordinal)))
            {
                problems.Add($"a bind's SandboxPath must be an absolute path in normal form, not / nor at or under {string.Join(", ", ReservedPaths)}: \"{bind.SandboxPath}\"");
            }
        }

        foreach (var (name, value) in Environment)
        {
            if (!EnvironmentName().IsMatch(name) || value.Contains('\0', StringComparison.Ordinal))
            {
                problems.Add($"an environment variable's name is [A-Za-z_][A-Za-z0-9_]* and its value has no NUL: \"{name}\"");
            }
        }

        return problems;
    }

    /// <summary>Throws <c>invalid_request</c> naming every problem of <see cref="Problems"/>.</summary>
    /// <exception cref="SandboxException">The spec is not valid.</exception>
    public void Validate()
    {
        if (Problems() is { Count: > 0 } problems)
        {
            throw new SandboxException(ReasonCodes.InvalidRequest, $"the server's spec is not valid: {string.Join("; ", problems)}");
        }
    }

    /// <summary>Absolute, in normal form (no <c>.</c>, <c>..</c>, doubled or trailing <c>/</c>), no NUL.</summary>
    private static bool IsSandboxPath(string path) =>
        path.StartsWith('/') && !path.Contains('\0', StringComparison.Ordinal) && (path == "/" || !path.EndsWith('/'))
        && path.Split('/').Skip(1).All(part => part is not ("" or "." or ".."));

    [GeneratedRegex("^[A-Za-z_][A-Za-z0-9_]*$", RegexOptions.CultureInvariant)]
    private static partial Regex EnvironmentName();
}

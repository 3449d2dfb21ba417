using AgentSecurity.Sandbox.Workspaces;

namespace AgentSecurity.Sandbox;

/// <summary>One execution to run: the code, its input, its limits, and the agent's workspace on this machine.</summary>
/// <param name="Runtime">One of <see cref="SandboxRuntimes"/>.</param>
/// <param name="Code">A WebAssembly module (binary or text), JavaScript source, or an executable's bytes.</param>
/// <param name="Input">What the code reads as its input (a process's standard input).</param>
/// <param name="Limits">What the execution may use.</param>
/// <param name="Workspace">The agent's own directory; the only one agent code can write, seen inside as <c>/workspace</c>.</param>
/// <param name="WorkspaceAccess">How a native process sees the workspace directly (host calls are checked one by one).</param>
public sealed record SandboxJob(string Runtime, ReadOnlyMemory<byte> Code, string Input, SandboxLimits Limits, AgentWorkspace Workspace, WorkspaceAccess WorkspaceAccess = WorkspaceAccess.ReadWrite)
{
    /// <summary>
    /// Told once, by a runtime that <see cref="ISandboxRuntime.StartsLater"/>, when it starts the code (on the runtime's
    /// thread; it must not throw). Null: nobody waits for it.
    /// </summary>
    public Action? Started { get; init; }
}

/// <summary>What a native process may do with its workspace's files directly, as the grant's <c>fileSystem</c> level allows.</summary>
public enum WorkspaceAccess
{
    /// <summary>An empty, read-only <c>/workspace</c>.</summary>
    None,

    ReadOnly,

    ReadWrite,
}

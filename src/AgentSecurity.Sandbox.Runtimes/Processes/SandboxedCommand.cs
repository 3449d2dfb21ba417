using AgentSecurity.Sandbox.Servers;

namespace AgentSecurity.Sandbox.Processes;

/// <summary>
/// What <see cref="BubblewrapCommand"/> needs to start one program in the sandbox: who runs it, what it sees besides the
/// system, its rlimits and its environment. Executions and servers differ only in these.
/// </summary>
internal sealed record SandboxedCommand
{
    /// <summary>The agent's user id (the workspace's owner).</summary>
    public required uint Owner { get; init; }

    public required string Workspace { get; init; }

    public required WorkspaceAccess Access { get; init; }

    /// <summary>Seen read-only inside, after the workspace.</summary>
    public IReadOnlyList<SandboxBind> ReadOnlyBinds { get; init; } = [];

    /// <summary>The whole environment inside.</summary>
    public required IReadOnlyList<KeyValuePair<string, string>> Environment { get; init; }

    /// <summary>Absolute path inside the sandbox.</summary>
    public required string Command { get; init; }

    public IReadOnlyList<string> Arguments { get; init; } = [];

    /// <summary><c>RLIMIT_AS</c>.</summary>
    public required long MemoryBytes { get; init; }

    /// <summary><c>RLIMIT_CPU</c> of each process, or null for none.</summary>
    public required TimeSpan? CpuTime { get; init; }

    /// <summary><c>RLIMIT_NPROC</c> of the agent's user.</summary>
    public required int Processes { get; init; }

    /// <summary><c>RLIMIT_FSIZE</c>.</summary>
    public required long FileBytes { get; init; }

    /// <summary><c>RLIMIT_NOFILE</c>.</summary>
    public required int OpenFiles { get; init; }
}

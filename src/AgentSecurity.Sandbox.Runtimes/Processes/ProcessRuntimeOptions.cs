namespace AgentSecurity.Sandbox.Processes;

/// <summary>The tools the native runtime starts and where it keeps each execution's scratch directory.</summary>
public sealed record ProcessRuntimeOptions
{
    /// <summary>Each execution's program and host socket: <c>{ScratchRoot}/{id}</c>, removed afterwards.</summary>
    public required string ScratchRoot { get; init; }

    public string Bubblewrap { get; init; } = "/usr/bin/bwrap";

    /// <summary>util-linux's <c>setpriv</c> (drops to the workspace owner) and <c>prlimit</c> (sets the rlimits).</summary>
    public string SetPriv { get; init; } = "/usr/bin/setpriv";

    public string PrLimit { get; init; } = "/usr/bin/prlimit";

    /// <summary>Opens the seccomp filter for bubblewrap (<c>exec 9&lt;filter</c>): .NET passes a child no descriptor but the standard three.</summary>
    public string Shell { get; init; } = "/bin/sh";

    /// <summary>Size of the sandbox's private <c>/tmp</c> (a tmpfs, so it is memory).</summary>
    public long TmpBytes { get; init; } = 16L * 1024 * 1024;

    /// <summary>Files one process may have open.</summary>
    public int OpenFiles { get; init; } = 256;

    /// <summary>How often the runtime looks at the agent's processes (count, cancellation, deadline).</summary>
    public TimeSpan WatchInterval { get; init; } = TimeSpan.FromMilliseconds(50);

    /// <summary>
    /// How often a running execution's writable workspace is measured against its limits (default 250 ms): what it can
    /// write between two measurements is what it can overshoot them by.
    /// </summary>
    public TimeSpan WorkspaceInterval { get; init; } = TimeSpan.FromMilliseconds(250);
}

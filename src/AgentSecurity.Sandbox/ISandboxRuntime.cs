using AgentSecurity.Sandbox.Host;

namespace AgentSecurity.Sandbox;

/// <summary>
/// A runtime that executes agent code whose only way to affect anything outside itself is the host API it is given.
/// Implementations never throw for anything the code does: every ending, including a hostile one, is a
/// <see cref="SandboxResult"/>. Once <c>cancellation</c> is signalled (the kernel's kill switch: the agent was
/// quarantined or its grant revoked) <see cref="RunAsync"/> stops the code within milliseconds and returns
/// <see cref="SandboxResult.Cancelled"/> as the error; the kernel reports why it cancelled.
/// </summary>
public interface ISandboxRuntime
{
    /// <summary>One of <see cref="SandboxRuntimes"/>.</summary>
    string Name { get; }

    /// <summary>
    /// Whether <see cref="RunAsync"/> may wait before the code runs (for a worker to be free) and tells
    /// <see cref="SandboxJob.Started"/> when it starts the code. The caller's wall-clock deadline counts from then, so that
    /// a busy machine's queue is not charged to the code's limit. False (the default): the code starts at once.
    /// </summary>
    bool StartsLater => false;

    Task<SandboxResult> RunAsync(SandboxJob job, IHostApi host, CancellationToken cancellation);
}

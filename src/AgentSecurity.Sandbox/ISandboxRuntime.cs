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

    Task<SandboxResult> RunAsync(SandboxJob job, IHostApi host, CancellationToken cancellation);
}

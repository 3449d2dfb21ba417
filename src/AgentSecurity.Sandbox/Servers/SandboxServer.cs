namespace AgentSecurity.Sandbox.Servers;

/// <summary>
/// A running server of <see cref="ISandboxServerHost"/>. Its standard input and output are the caller's to speak over;
/// standard error is drained so that the server never blocks on it, keeping only its end. Disposing kills the whole
/// process tree (if it still runs) and waits for it to end.
/// </summary>
public abstract class SandboxServer : IAsyncDisposable
{
    /// <summary>The server's standard input. Closing it is how a stdio server is asked to end by itself.</summary>
    public abstract Stream Input { get; }

    /// <summary>
    /// The server's standard output, read-only; it ends when the server does, or once a line passes
    /// <see cref="SandboxServerLimits.MaxLineBytes"/> (the server is then killed, <c>output_limit</c>).
    /// </summary>
    public abstract Stream Output { get; }

    /// <summary>The end of what the server wrote to standard error so far (<see cref="SandboxServerLimits.ErrorTailBytes"/>), as UTF-8 text.</summary>
    public abstract string ErrorTail { get; }

    /// <summary>Completes with the exit status once the server's process tree has ended (128 + n for signal n); never faults.</summary>
    public abstract Task<int> Exited { get; }

    /// <summary>
    /// Once <see cref="Exited"/> completed, why the server ended, as an error code of <c>contracts/cli.md</c>:
    /// <c>memory_limit</c>, <c>output_limit</c>, <c>fuel_exhausted</c>, <c>quota_exceeded</c>, <c>unavailable</c> (the
    /// sandbox could not start it), <c>execution_failed</c>, <see cref="SandboxResult.Cancelled"/> (killed by
    /// <see cref="Kill"/>, disposal or the kill switch); null when it exited with status 0 by itself.
    /// </summary>
    public abstract string? Error { get; }

    /// <summary>What <see cref="Error"/> means here, for a person.</summary>
    public abstract string? Message { get; }

    /// <summary>Kills the server's whole process tree now; <see cref="Exited"/> completes shortly after. Idempotent.</summary>
    public abstract void Kill();

    public abstract ValueTask DisposeAsync();
}

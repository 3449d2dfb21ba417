using AgentSecurity.Sandbox.Host;

namespace AgentSecurity.Sandbox.Tests.Contract;

/// <summary>
/// One runtime as the contract suite sees it: how to make it, and how to write, in its own language, each program the
/// contract needs. Every program of every adapter does the same observable thing, so that one assertion holds for all;
/// where the runtimes legitimately differ, the difference is a property here, never a condition in a test.
/// </summary>
internal abstract class RuntimeAdapter
{
    /// <summary>One of <see cref="SandboxRuntimes"/>.</summary>
    public abstract string Name { get; }

    /// <summary>
    /// What the runtime's failure of <see cref="Fail"/> names in its message: each has its own words for a failure
    /// (a trap, an uncaught exception, an exit status).
    /// </summary>
    public abstract string FailureNamed { get; }

    /// <summary>Copies its whole input to its output.</summary>
    public abstract string Echo { get; }

    /// <summary>Writes <c>before</c>, then fails by itself the way code in this language does.</summary>
    public abstract string Fail { get; }

    /// <summary>Something that is not a program of this runtime at all.</summary>
    public abstract string NotAProgram { get; }

    public abstract ISandboxRuntime Create();

    /// <summary>Writes <paramref name="bytes"/> bytes of <c>x</c>, a kilobyte at a time, and ends.</summary>
    public abstract string Write(int bytes);

    /// <summary>
    /// Makes each call in order and writes one line per call: <c>ok:</c> and the reply's value (nothing for null),
    /// or <c>denied:</c> or <c>failed:</c> and the reply's error code.
    /// </summary>
    public abstract string Call(params HostCall[] calls);

    /// <summary>Makes <paramref name="first"/> (when given, ignoring its reply), then loops forever writing nothing.</summary>
    public abstract string Loop(HostCall? first = null);

    /// <summary>Allocates <paramref name="bytes"/> bytes in steps of at most a mebibyte, keeping all of it, then writes <c>allocated</c>.</summary>
    public abstract string Allocate(long bytes);
}

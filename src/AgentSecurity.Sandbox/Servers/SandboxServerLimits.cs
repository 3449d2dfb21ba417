namespace AgentSecurity.Sandbox.Servers;

/// <summary>
/// What one server may use. A server lives as long as its caller keeps it, so there is no wall-clock limit and, unless
/// one is set, no CPU budget; its memory is its own (Node needs far more address space than a short execution).
/// The processes limit is the agent's user's (<c>RLIMIT_NPROC</c> counts every thread of the user, its executions and
/// other servers included), so it is the agent's budget as a whole, not this server's.
/// </summary>
public sealed record SandboxServerLimits
{
    /// <summary>
    /// Address space (<c>RLIMIT_AS</c>), default 512 MiB. Node needs its flags to fit any such limit (see
    /// docs/sandboxes.md): the reference filesystem server with <c>--jitless --max-old-space-size=128
    /// --max-semi-space-size=4</c> starts at 192 MiB (measured) and uses about 62 MiB resident.
    /// </summary>
    public long MemoryBytes { get; init; } = 512L * 1024 * 1024;

    /// <summary>Processes and threads of the agent's user (<c>RLIMIT_NPROC</c>), default 32: a Node server has 11 threads, bubblewrap one more.</summary>
    public int Processes { get; init; } = 32;

    /// <summary>Files one process may have open (<c>RLIMIT_NOFILE</c>), default 256.</summary>
    public int OpenFiles { get; init; } = 256;

    /// <summary>Largest file the server may write (<c>RLIMIT_FSIZE</c>), default 16 MiB.</summary>
    public long FileBytes { get; init; } = 16L * 1024 * 1024;

    /// <summary>
    /// CPU time of the server's whole process tree, after which it is killed (<c>fuel_exhausted</c>); null (the default)
    /// for none, since a long-lived server would otherwise die at a budget meant for one execution.
    /// </summary>
    public TimeSpan? CpuTime { get; init; }

    /// <summary>
    /// Longest line the server may write to its standard output, default 4 MiB: MCP over stdio is one JSON message a
    /// line, and a reader holds a whole line in memory, so a line past this kills the server (<c>output_limit</c>) and
    /// ends <see cref="SandboxServer.Output"/> without handing on more than this of it.
    /// </summary>
    public int MaxLineBytes { get; init; } = 4 * 1024 * 1024;

    /// <summary>Bytes of the end of its standard error kept (default 8 KiB), to tell why it failed; the rest is read and dropped.</summary>
    public int ErrorTailBytes { get; init; } = 8 * 1024;

    /// <summary>What is wrong with these limits, one sentence each; empty when they are valid.</summary>
    public IReadOnlyList<string> Problems()
    {
        var problems = new List<string>();
        void Require(bool valid, string problem)
        {
            if (!valid)
            {
                problems.Add(problem);
            }
        }

        Require(MemoryBytes >= 16L * 1024 * 1024, $"MemoryBytes must be at least 16 MiB (is {MemoryBytes})");
        Require(Processes >= 2, $"Processes must be at least 2, bubblewrap and the server (is {Processes})");
        Require(OpenFiles >= 16, $"OpenFiles must be at least 16 (is {OpenFiles})");
        Require(FileBytes > 0, $"FileBytes must be positive (is {FileBytes})");
        Require(CpuTime is null || CpuTime >= TimeSpan.FromSeconds(1), $"CpuTime must be null or at least a second (is {CpuTime})");
        Require(MaxLineBytes >= 1024, $"MaxLineBytes must be at least 1024 (is {MaxLineBytes})");
        Require(ErrorTailBytes >= 0, $"ErrorTailBytes must not be negative (is {ErrorTailBytes})");
        return problems;
    }
}

using Microsoft.Extensions.Options;

namespace AgentSecurity.Sandbox.JavaScript;

/// <summary>
/// JavaScript's worker processes (configuration section <c>AgentSecurity:Sandbox:JavaScript</c>): how many are kept warm,
/// the users they run as, and the limits of each process. Every execution takes a warm worker and the worker ends with it.
/// </summary>
public sealed class JsWorkerPoolOptions
{
    public const string SectionName = "AgentSecurity:Sandbox:JavaScript";

    /// <summary>
    /// Workers kept started and warm (default 2, each an idle .NET process of some 60 MB resident). Every execution uses
    /// one up and its replacement takes ~0.4 s of CPU to start (seconds of wall time on a loaded machine), so this many
    /// executions may come at once, or one every start time ÷ this many, without waiting; more wait for a start, up to
    /// <see cref="StartTimeout"/>, then answer <c>unavailable</c>. More warm workers cover larger bursts but not a faster
    /// steady rate, which the CPU of the starts bounds; and every silo starts this many (a test cluster of three, three times).
    /// </summary>
    public int WarmWorkers { get; set; } = 2;

    /// <summary>
    /// The user ids workers run as, one per live worker, from <see cref="FirstUserId"/> (default 1,499,000,000, below
    /// the agents' range of <c>AgentSecurity:Sandbox:FirstUserId</c>) on, <see cref="UserIdCount"/> of them (default
    /// 1,000). No one else on the machine may use them.
    /// </summary>
    public uint FirstUserId { get; set; } = 1_499_000_000;

    public uint UserIdCount { get; set; } = 1_000;

    /// <summary>
    /// Where the silos of one machine reserve workers' user ids (a lock file each; default <c>/run/agentsec-js-users</c>,
    /// a tmpfs). Every silo of the machine must name the same directory.
    /// </summary>
    public string UserLockDirectory { get; set; } = "/run/agentsec-js-users";

    /// <summary>
    /// The .NET heap of a worker (<c>DOTNET_GCHeapHardLimit</c>, default 768 MiB): past it the worker fails with
    /// <c>memory_limit</c>, whatever the script's own limit (which Jint enforces first, up to the silo's
    /// <c>MaxMemoryBytes</c>, 512 MiB by default).
    /// </summary>
    public long HeapBytes { get; set; } = 768L * 1024 * 1024;

    /// <summary>
    /// The worker's address space (<c>RLIMIT_AS</c>, default 8 GiB): generous, since .NET reserves far more address space
    /// than it uses (a tight limit breaks the runtime's start, not the script); the heap limit is what bounds memory.
    /// </summary>
    public long AddressSpaceBytes { get; set; } = 8L * 1024 * 1024 * 1024;

    /// <summary>Threads (and processes) of a worker's user (<c>RLIMIT_NPROC</c>, default 64): the runtime's own threads need a few dozen.</summary>
    public int Threads { get; set; } = 64;

    /// <summary>How long after its wall time an execution's worker is killed if it has not answered (default 1 s).</summary>
    public TimeSpan KillGrace { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// How long a worker may take to start, and an execution to wait for a warm one, before it answers
    /// <c>unavailable</c> (default 30 s: a worker takes seconds to start on a loaded machine). The wait counts against
    /// the execution's own wall-clock limit, which the kernel enforces from outside.
    /// </summary>
    public TimeSpan StartTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// How often a warm worker waiting for its job runs a keep-warm job (the trivial script, on an engine of its own, its
    /// output to nowhere and its host calls to no one; default 100 ms; zero: never). A worker idle for half a second or
    /// more runs a trivial job on 1.5 to 2 ms of CPU, one idle for 100 ms or less on about 0.5 ms: its code and the
    /// runtime's data are still in the processor's caches. Each costs a waiting worker about 1.5% of a core at 100 ms.
    /// </summary>
    public TimeSpan KeepWarmEvery { get; set; } = TimeSpan.FromMilliseconds(100);
}

public sealed class JsWorkerPoolOptionsValidator : IValidateOptions<JsWorkerPoolOptions>
{
    private const long MinHeapBytes = 32L * 1024 * 1024;

    public ValidateOptionsResult Validate(string? name, JsWorkerPoolOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var failures = new List<string>();
        void Require(bool holds, string setting, string rule, object value)
        {
            if (!holds)
            {
                failures.Add($"{JsWorkerPoolOptions.SectionName}:{setting} {rule} (is {value})");
            }
        }

        Require(options.WarmWorkers is >= 1 and <= 256, "WarmWorkers", "must be between 1 and 256", options.WarmWorkers);
        Require(options.FirstUserId >= 1000, "FirstUserId", "must be at least 1000 (no system account's)", options.FirstUserId);
        Require(options.UserIdCount >= 2L * options.WarmWorkers && (ulong)options.FirstUserId + options.UserIdCount <= int.MaxValue, "UserIdCount",
            $"must be at least twice WarmWorkers, and FirstUserId + UserIdCount at most {int.MaxValue}", options.UserIdCount);
        Require(Path.IsPathFullyQualified(options.UserLockDirectory), "UserLockDirectory", "must be an absolute path", options.UserLockDirectory);
        Require(options.HeapBytes >= MinHeapBytes, "HeapBytes", $"must be at least {MinHeapBytes}", options.HeapBytes);
        Require(options.AddressSpaceBytes >= 4 * options.HeapBytes, "AddressSpaceBytes", "must be at least 4 × HeapBytes (the runtime reserves far more than it uses)", options.AddressSpaceBytes);
        Require(options.Threads >= 16, "Threads", "must be at least 16 (the runtime's own threads)", options.Threads);
        Require(options.KillGrace > TimeSpan.Zero, "KillGrace", "must be positive", options.KillGrace);
        Require(options.StartTimeout > TimeSpan.Zero, "StartTimeout", "must be positive", options.StartTimeout);
        Require(options.KeepWarmEvery == TimeSpan.Zero || (options.KeepWarmEvery >= TimeSpan.FromMilliseconds(10) && options.KeepWarmEvery <= TimeSpan.FromMinutes(10)),
            "KeepWarmEvery", "must be zero (never) or between 10 ms and 10 minutes", options.KeepWarmEvery);
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}

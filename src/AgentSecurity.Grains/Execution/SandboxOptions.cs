using Microsoft.Extensions.Options;

namespace AgentSecurity.Grains.Execution;

/// <summary>
/// Executions (configuration section <c>AgentSecurity:Sandbox</c>): where agents' workspaces live, the limits an
/// execution gets when its grant sets none, and the most any grant can get, whatever it says.
/// </summary>
public sealed class SandboxOptions
{
    public const string SectionName = "AgentSecurity:Sandbox";

    /// <summary>
    /// Agents' workspaces on this silo: <c>{root}/{tenant}/{agent}</c>, scratch space local to the silo. As root,
    /// <c>/var/lib/agentsec/workspaces</c>: every directory above it must be root's alone (checked on use).
    /// </summary>
    public string WorkspaceRoot { get; set; } = Environment.UserName == "root" ? "/var/lib/agentsec/workspaces" : Path.Combine(Path.GetTempPath(), "agentsec-workspaces");

    /// <summary>
    /// The user ids given to agents' workspaces and native processes when the silo runs as root: one per agent, from
    /// <see cref="FirstUserId"/> (default 1,500,000,000, far above the ranges of /etc/subuid) on, <see cref="UserIdCount"/>
    /// of them (1,000,000). No one else on the machine may use them.
    /// </summary>
    public uint FirstUserId { get; set; } = 1_500_000_000;

    public uint UserIdCount { get; set; } = 1_000_000;

    /// <summary>
    /// What one agent's workspace may hold: bytes of files (default 256 MiB) and entries (10,000). Host writes past them
    /// fail <c>quota_exceeded</c>; a native execution that passes them is stopped (<c>quota_exceeded</c>).
    /// </summary>
    public long MaxWorkspaceBytes { get; set; } = 256L * 1024 * 1024;

    public int MaxWorkspaceEntries { get; set; } = 10_000;

    /// <summary>
    /// A workspace that no execution on this machine (any silo sharing <see cref="WorkspaceRoot"/>) has used for this long
    /// is removed, with the user id it was given (default 7 days). Each silo looks every
    /// <see cref="WorkspaceSweepInterval"/> (default 1 hour, at most a day).
    /// </summary>
    public TimeSpan WorkspaceRetention { get; set; } = TimeSpan.FromDays(7);

    public TimeSpan WorkspaceSweepInterval { get; set; } = TimeSpan.FromHours(1);

    /// <summary>Executions running at once on one silo, all agents together (default 64); past it, <c>unavailable</c>.</summary>
    public int MaxExecutionsPerSilo { get; set; } = 64;

    /// <summary>Executions of one tenant's agents running at once on one silo (default 16): no tenant takes every slot.</summary>
    public int MaxExecutionsPerTenant { get; set; } = 16;

    /// <summary>Memory of one execution without <c>maxMemoryBytes</c> (default 64 MiB) and the most with it (512 MiB).</summary>
    public long DefaultMemoryBytes { get; set; } = 64L * 1024 * 1024;

    public long MaxMemoryBytes { get; set; } = 512L * 1024 * 1024;

    /// <summary>CPU time without <c>maxCpuMillis</c> (default 2 s) and the most (60 s).</summary>
    public long DefaultCpuMillis { get; set; } = 2_000;

    public long MaxCpuMillis { get; set; } = 60_000;

    /// <summary>Wall-clock time without <c>maxWallMillis</c> (default 5 s) and the most (120 s).</summary>
    public long DefaultWallMillis { get; set; } = 5_000;

    public long MaxWallMillis { get; set; } = 120_000;

    /// <summary>Output without <c>maxOutputBytes</c> (default 64 KiB) and the most (1 MiB).</summary>
    public long DefaultOutputBytes { get; set; } = 64 * 1024;

    public long MaxOutputBytes { get; set; } = 1024 * 1024;

    /// <summary>Executions of one agent at once without <c>maxConcurrentExecutions</c> (default 2) and the most (16).</summary>
    public long DefaultConcurrentExecutions { get; set; } = 2;

    public long MaxConcurrentExecutions { get; set; } = 16;

    /// <summary>Largest code (default 4 MiB) and input (256 KiB) an execution accepts.</summary>
    public int MaxCodeBytes { get; set; } = 4 * 1024 * 1024;

    public int MaxInputBytes { get; set; } = 256 * 1024;

    /// <summary>Host calls one execution may make (default 10,000).</summary>
    public int HostCallsPerExecution { get; set; } = 10_000;

    /// <summary>Processes of one native execution (default 32).</summary>
    public int ProcessesPerExecution { get; set; } = 32;

    /// <summary>Largest file agent code may read (default 1 MiB) or write (16 MiB) through the host, or a process may write.</summary>
    public int MaxFileReadBytes { get; set; } = 1024 * 1024;

    public long MaxFileWriteBytes { get; set; } = 16L * 1024 * 1024;

    /// <summary>Outbound HTTP of <c>http.fetch</c>: timeout (default 10 s) and largest response body kept (1 MiB).</summary>
    public TimeSpan HttpTimeout { get; set; } = TimeSpan.FromSeconds(10);

    public int MaxHttpResponseBytes { get; set; } = 1024 * 1024;

    /// <summary>
    /// The OpenAI-compatible endpoint <c>llm.complete</c> goes to, e.g. <c>http://127.0.0.1:8000/v1</c> (its
    /// <c>/chat/completions</c>); without one, <c>llm.complete</c> answers <c>unavailable</c>.
    /// </summary>
    public Uri? LlmBaseUrl { get; set; }

    public string LlmModel { get; set; } = "gpt-4o-mini";

    /// <summary>Sent as a bearer token when set; never shown to agent code.</summary>
    public string? LlmApiKey { get; set; }

    /// <summary>Completion tokens asked for; a call is metered (<c>llmTokensPerHour</c>) as prompt estimate plus these.</summary>
    public int LlmMaxTokens { get; set; } = 256;
}

public sealed class SandboxOptionsValidator : IValidateOptions<SandboxOptions>
{
    public ValidateOptionsResult Validate(string? name, SandboxOptions o)
    {
        var checks = new SettingChecks("AgentSecurity:Sandbox")
            .Require(Path.IsPathFullyQualified(o.WorkspaceRoot), "WorkspaceRoot", "must be an absolute path", o.WorkspaceRoot);
        foreach (var (what, value, max) in new[]
        {
            ("MemoryBytes", o.DefaultMemoryBytes, o.MaxMemoryBytes), ("CpuMillis", o.DefaultCpuMillis, o.MaxCpuMillis),
            ("WallMillis", o.DefaultWallMillis, o.MaxWallMillis), ("OutputBytes", o.DefaultOutputBytes, o.MaxOutputBytes),
            ("ConcurrentExecutions", o.DefaultConcurrentExecutions, o.MaxConcurrentExecutions),
        })
        {
            checks.Positive($"Default{what}", value)
                .Require(max >= value, $"Max{what}", $"must be at least Default{what} ({value})", max);
        }

        return checks
            .Require(o.MaxWallMillis <= 120_000, "MaxWallMillis", "is at most 120000: an execution must end within the 2.5 min a client waits for it", o.MaxWallMillis)
            .Require(o.MaxOutputBytes <= int.MaxValue, "MaxOutputBytes", $"is at most {int.MaxValue}", o.MaxOutputBytes)
            .Require(o.FirstUserId >= 1000, "FirstUserId", "must be at least 1000 (no system account's)", o.FirstUserId)
            .Require(o.UserIdCount >= 1 && (ulong)o.FirstUserId + o.UserIdCount <= int.MaxValue, "UserIdCount",
                $"must be at least 1, and FirstUserId + UserIdCount at most {int.MaxValue}", o.UserIdCount)
            .Positive("MaxExecutionsPerSilo", o.MaxExecutionsPerSilo)
            .Positive("MaxExecutionsPerTenant", o.MaxExecutionsPerTenant)
            .Positive("MaxCodeBytes", o.MaxCodeBytes)
            .NotNegative("MaxInputBytes", o.MaxInputBytes)
            .NotNegative("HostCallsPerExecution", o.HostCallsPerExecution)
            .Positive("ProcessesPerExecution", o.ProcessesPerExecution)
            .Positive("MaxFileReadBytes", o.MaxFileReadBytes)
            .Positive("MaxFileWriteBytes", o.MaxFileWriteBytes)
            .Positive("HttpTimeout", o.HttpTimeout)
            .Positive("MaxHttpResponseBytes", o.MaxHttpResponseBytes)
            .Positive("LlmMaxTokens", o.LlmMaxTokens)
            .Positive("MaxWorkspaceBytes", o.MaxWorkspaceBytes)
            .Positive("MaxWorkspaceEntries", o.MaxWorkspaceEntries)
            .Positive("WorkspaceRetention", o.WorkspaceRetention)
            .Require(o.WorkspaceSweepInterval > TimeSpan.Zero && o.WorkspaceSweepInterval <= TimeSpan.FromDays(1), "WorkspaceSweepInterval", "must be positive and at most a day", o.WorkspaceSweepInterval)
            .Require(o.LlmBaseUrl is null || (o.LlmBaseUrl.IsAbsoluteUri && o.LlmBaseUrl.Scheme is "http" or "https"), "LlmBaseUrl", "must be an absolute http(s) URL", o.LlmBaseUrl)
            .Result;
    }
}

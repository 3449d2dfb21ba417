using System.Text;
using AgentSecurity.Sandbox.Workspaces;

namespace AgentSecurity.Sandbox.Tests.Infrastructure;

/// <summary>Jobs for runtime tests: generous defaults, each limit easy to tighten, workspaces under one temporary root.</summary>
internal static class Jobs
{
    public static readonly SandboxLimits Limits = new()
    {
        WallTime = TimeSpan.FromSeconds(10),
        CpuTime = TimeSpan.FromSeconds(5),
        MemoryBytes = 16L * 1024 * 1024,
        OutputBytes = 64 * 1024,
        HostCalls = 100,
        Processes = 16,
        FileBytes = 1024 * 1024,
    };

    /// <summary>Workspaces of this test run (user ids from a range of their own, so runs never share an owner).</summary>
    public static readonly WorkspaceOptions Workspaces = new()
    {
        Root = Directory.CreateTempSubdirectory("agentsec-sandbox-tests-").FullName,
        FirstUserId = 1_700_000_000 + ((uint)Environment.ProcessId % 1000 * 1000),
        UserIdCount = 1000,
    };

    public static AgentWorkspace NewWorkspace(string tenant = "t") => AgentWorkspace.For(Workspaces, tenant, $"a{Guid.NewGuid():N}");

    /// <summary>A new workspace that holds at most <paramref name="bytes"/> and <paramref name="entries"/>.</summary>
    public static AgentWorkspace NewWorkspace(long bytes, int entries = 10_000) =>
        AgentWorkspace.For(Workspaces with { MaxBytes = bytes, MaxEntries = entries }, "t", $"a{Guid.NewGuid():N}");

    public static SandboxJob For(string runtime, string code, string input = "", SandboxLimits? limits = null, AgentWorkspace? workspace = null) =>
        For(runtime, Encoding.UTF8.GetBytes(code), input, limits, workspace);

    public static SandboxJob For(string runtime, byte[] code, string input = "", SandboxLimits? limits = null, AgentWorkspace? workspace = null) =>
        new(runtime, code, input, limits ?? Limits, workspace ?? NewWorkspace());
}

using System.Globalization;
using AgentSecurity.Sandbox.Workspaces;

namespace AgentSecurity.Sandbox.Processes;

/// <summary>
/// The command line that starts one native execution: <c>setpriv</c> becomes the workspace's owner (no groups, no
/// capabilities, no new privileges), <c>prlimit</c> sets the rlimits, and <c>bwrap</c> builds the sandbox: new user, pid,
/// ipc, uts, cgroup and net namespaces; the system's <c>/usr</c> read-only; a private <c>/proc</c>, <c>/dev</c> and
/// <c>/tmp</c>; the workspace (as the grant allows) the only writable directory; the program and the host socket under <c>/run/agentsec</c>;
/// an empty environment; a new session; the <see cref="SeccompFilter"/>; killed when the silo dies.
/// </summary>
internal static class BubblewrapCommand
{
    public const string ScratchMount = "/run/agentsec";
    public const string Program = ScratchMount + "/program";
    public const string HostSocket = ScratchMount + "/host.sock";

    /// <summary>The descriptor the launching shell opens the seccomp filter on.</summary>
    public const string SeccompDescriptor = "9";

    /// <summary>Top-level directories that merged-/usr systems have as links into /usr and others as directories.</summary>
    private static readonly string[] SystemDirectories = ["bin", "sbin", "lib", "lib64", "lib32", "libx32"];

    /// <summary>The few files of /etc that programs need to start (the loader's cache, alternatives); never passwd or shadow.</summary>
    private static readonly string[] SystemFiles = ["/etc/ld.so.cache", "/etc/alternatives", "/etc/localtime"];

    public static IReadOnlyList<string> Arguments(ProcessRuntimeOptions options, SandboxLimits limits, string workspace, WorkspaceAccess access, uint owner, string scratch)
    {
        var id = owner.ToString(CultureInfo.InvariantCulture);
        var cpuSeconds = Math.Max(1, (long)Math.Ceiling(limits.CpuTime.TotalSeconds));
        var arguments = new List<string>
        {
            "--reuid", id, "--regid", id, "--clear-groups", "--inh-caps=-all", "--bounding-set=-all", "--no-new-privs", "--",
            options.PrLimit,
            $"--as={limits.MemoryBytes}",
            $"--cpu={cpuSeconds}:{cpuSeconds + 1}", // SIGXCPU at the budget, SIGKILL a second later
            $"--nproc={limits.Processes}",
            $"--fsize={limits.FileBytes}",
            $"--nofile={options.OpenFiles}",
            "--core=0",
            "--",
            options.Bubblewrap,
            "--unshare-user", "--unshare-pid", "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try", "--unshare-net",
            "--disable-userns", "--die-with-parent", "--new-session", "--hostname", "sandbox",
            "--seccomp", SeccompDescriptor,

            // The program is the pid namespace's init, so bwrap reaps it itself: bwrap's own init would be left to
            // the machine's init to reap, and a zombie of the agent's user counts against its process limit.
            "--as-pid-1",
            "--ro-bind", "/usr", "/usr",
        };

        foreach (var name in SystemDirectories)
        {
            var path = "/" + name;
            var info = new DirectoryInfo(path);
            if (info.LinkTarget is { } target)
            {
                arguments.AddRange(["--symlink", target, path]);
            }
            else if (info.Exists)
            {
                arguments.AddRange(["--ro-bind", path, path]);
            }
        }

        foreach (var file in SystemFiles)
        {
            arguments.AddRange(["--ro-bind-try", file, file]);
        }

        arguments.AddRange(
        [
            "--proc", "/proc",

            // bwrap's /dev is a tmpfs as large as memory: its device nodes work read-only, and /dev/shm gets a little.
            "--dev", "/dev",
            "--size", "1048576", "--tmpfs", "/dev/shm",
            "--remount-ro", "/dev",
            "--size", options.TmpBytes.ToString(CultureInfo.InvariantCulture), "--tmpfs", "/tmp",
        ]);
        arguments.AddRange(access switch
        {
            WorkspaceAccess.ReadWrite => ["--bind", workspace, AgentWorkspace.Mount],
            WorkspaceAccess.ReadOnly => ["--ro-bind", workspace, AgentWorkspace.Mount],
            _ => ["--dir", AgentWorkspace.Mount],
        });
        arguments.AddRange(
        [
            "--ro-bind", scratch, ScratchMount,
            "--remount-ro", "/", // the sandbox's own root (where bwrap made the mount points) holds nothing to write
            "--chdir", AgentWorkspace.Mount,
            "--clearenv",
            "--setenv", "PATH", "/usr/local/bin:/usr/bin:/bin",
            "--setenv", "HOME", AgentWorkspace.Mount,
            "--setenv", "LANG", "C.UTF-8",
            "--setenv", "AGENTSEC_HOST_SOCKET", HostSocket,
            "--",
            Program,
        ]);
        return arguments;
    }
}

using System.Diagnostics;
using System.Globalization;
using AgentSecurity.Sandbox.Workspaces;

namespace AgentSecurity.Sandbox.Processes;

/// <summary>
/// The command line that starts one sandboxed program: <c>setpriv</c> becomes the workspace's owner (no groups, no
/// capabilities, no new privileges), <c>prlimit</c> sets the rlimits, and <c>bwrap</c> builds the sandbox: new user, pid,
/// ipc, uts, cgroup and net namespaces; the system's <c>/usr</c> read-only; a private <c>/proc</c>, <c>/dev</c> and
/// <c>/tmp</c>; the workspace (as the grant allows) the only writable directory; read-only binds (an execution's program and host socket under
/// <c>/run/agentsec</c>, a server's package);
/// an empty environment; a new session; the <see cref="SeccompFilter"/>; killed when the silo dies. Native executions
/// (<see cref="ProcessRuntime"/>) and long-lived servers (<see cref="SandboxServerHost"/>) share it: what differs between
/// them is a <see cref="SandboxedCommand"/>.
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

    /// <summary>Opens the seccomp filter on descriptor 9 for bubblewrap, which reads and closes it.</summary>
    private static readonly string LaunchScript = $"exec {SeccompDescriptor}<\"$0\" && exec \"$@\"";

    /// <summary>Why programs cannot be sandboxed on this machine, or null when they can: there is no unsandboxed fallback.</summary>
    public static string? Unavailable(ProcessRuntimeOptions options) =>
        !OperatingSystem.IsLinux() ? "native executions need Linux"
        : !Posix.IsRoot ? "native executions need the silo to run as root, to run each agent's processes as a user of its own"
        : new[] { options.Bubblewrap, options.SetPriv, options.PrLimit, options.Shell }.FirstOrDefault(t => !File.Exists(t)) is { } missing ? $"{missing} is not installed (apt-get install bubblewrap util-linux)"
        : !SeccompFilter.Available ? $"no seccomp filter is defined for {System.Runtime.InteropServices.RuntimeInformation.ProcessArchitecture}"
        : null;

    /// <summary>
    /// How to start the command: a shell opens the seccomp filter (.NET passes a child no descriptor but the standard
    /// three), then <c>setpriv</c>, <c>prlimit</c> and <c>bwrap</c> exec one another, so the process started is bubblewrap's.
    /// Standard input, output and error are redirected; the environment outside is only a <c>PATH</c> to find the tools.
    /// </summary>
    public static ProcessStartInfo StartInfo(ProcessRuntimeOptions options, SandboxedCommand command, string workingDirectory)
    {
        var start = new ProcessStartInfo(options.Shell)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory,
        };
        start.Environment.Clear();
        start.Environment["PATH"] = "/usr/sbin:/usr/bin:/sbin:/bin";
        foreach (var argument in (string[])["-c", LaunchScript, SeccompFilter.FileIn(options.ScratchRoot), options.SetPriv, .. Arguments(options, command)])
        {
            start.ArgumentList.Add(argument);
        }

        return start;
    }

    public static IReadOnlyList<string> Arguments(ProcessRuntimeOptions options, SandboxedCommand command)
    {
        var id = command.Owner.ToString(CultureInfo.InvariantCulture);

        var cpu = "unlimited";
        if (command.CpuTime is { } time)
        {
            var seconds = Math.Max(1, (long)Math.Ceiling(time.TotalSeconds));
            cpu = $"{seconds}:{seconds + 1}"; // SIGXCPU at the budget, SIGKILL a second later
        }

        var arguments = new List<string>
        {
            "--reuid", id, "--regid", id, "--clear-groups", "--inh-caps=-all", "--bounding-set=-all", "--no-new-privs", "--",
            options.PrLimit,
            $"--as={command.MemoryBytes}",
            $"--cpu={cpu}",
            $"--nproc={command.Processes}",
            $"--fsize={command.FileBytes}",
            $"--nofile={command.OpenFiles}",
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
        arguments.AddRange(command.Access switch
        {
            WorkspaceAccess.ReadWrite => ["--bind", command.Workspace, AgentWorkspace.Mount],
            WorkspaceAccess.ReadOnly => ["--ro-bind", command.Workspace, AgentWorkspace.Mount],
            _ => ["--dir", AgentWorkspace.Mount],
        });
        foreach (var bind in command.ReadOnlyBinds)
        {
            arguments.AddRange(["--ro-bind", bind.HostPath, bind.SandboxPath]);
        }

        arguments.AddRange(
        [
            "--remount-ro", "/", // the sandbox's own root (where bwrap made the mount points) holds nothing to write
            "--chdir", AgentWorkspace.Mount,
            "--clearenv",
        ]);
        foreach (var (name, value) in command.Environment)
        {
            arguments.AddRange(["--setenv", name, value]);
        }

        arguments.AddRange(["--", command.Command, .. command.Arguments]);
        return arguments;
    }
}

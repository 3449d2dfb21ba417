using System.Diagnostics;
using AgentSecurity.Grants;
using AgentSecurity.Sandbox.Servers;

namespace AgentSecurity.Sandbox.Processes;

/// <summary>
/// Long-lived servers of agents under the sandbox of native executions (<see cref="BubblewrapCommand"/>: the agent's
/// own user, namespaces without network, seccomp, rlimits, the workspace as its grant allows), with their standard
/// input and output left open for the caller. Needs what <see cref="ProcessRuntime"/> needs (Linux, root, bubblewrap);
/// without it every start fails <c>unavailable</c>.
/// </summary>
public sealed class SandboxServerHost(ProcessRuntimeOptions options) : ISandboxServerHost
{
    public string? Unavailable { get; } = BubblewrapCommand.Unavailable(options);

    public async Task<SandboxServer> StartAsync(SandboxServerSpec spec, CancellationToken cancellation)
    {
        ArgumentNullException.ThrowIfNull(spec);
        spec.Validate();
        if (Unavailable is not null || spec.Workspace.Owner is not { } owner)
        {
            throw new SandboxException(ReasonCodes.Unavailable, Unavailable ?? "the workspace has no owner to run the server as");
        }

        // bubblewrap would say only "Can't find source path"; the configuration's mistake is named here.
        if (spec.ReadOnlyBinds.FirstOrDefault(b => !Path.Exists(b.HostPath)) is { } missing)
        {
            throw new SandboxException(ReasonCodes.InvalidRequest, $"the server's bind {missing.HostPath} does not exist");
        }

        cancellation.ThrowIfCancellationRequested();
        var start = BubblewrapCommand.StartInfo(options, new SandboxedCommand
        {
            Owner = owner,
            Workspace = spec.Workspace.Directory,
            Access = spec.WorkspaceAccess,
            ReadOnlyBinds = spec.ReadOnlyBinds,
            Environment = [.. spec.Environment],
            Command = spec.Command,
            Arguments = spec.Arguments,
            MemoryBytes = spec.Limits.MemoryBytes,
            CpuTime = spec.Limits.CpuTime,
            Processes = spec.Limits.Processes,
            FileBytes = spec.Limits.FileBytes,
            OpenFiles = spec.Limits.OpenFiles,
        }, workingDirectory: "/");

        var process = new Process { StartInfo = start };
        // bubblewrap passes every open descriptor on to the sandbox: the child must inherit none but the standard three.
        Posix.CloseInheritedOnExec();
        try
        {
            await ProcessLauncher.StartAsync(process);
        }
        catch (Exception e) when (e is System.ComponentModel.Win32Exception or InvalidOperationException)
        {
            process.Dispose();
            throw new SandboxException(ReasonCodes.Unavailable, $"the server's sandbox could not start: {e.Message}");
        }

        return new ProcessSandboxServer(process, spec, owner, options.WorkspaceInterval, cancellation);
    }
}

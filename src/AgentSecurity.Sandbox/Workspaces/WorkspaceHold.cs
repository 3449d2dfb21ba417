namespace AgentSecurity.Sandbox.Workspaces;

/// <summary>
/// A lock on an agent's workspace, shared between every silo of the machine that uses the same workspace root: an
/// execution holds it shared for as long as its runtime runs, and removing an idle workspace holds it exclusively. The
/// lock is <c>flock</c> on the workspace's entry in <c>{root}/.workspaces/{tenant}/{agent}</c> (a directory only the
/// silo can reach), whose modification time is when the workspace was last used, by the kernel's clock.
/// </summary>
public sealed class WorkspaceHold : IDisposable
{
    private const string RegistryDirectory = ".workspaces";

    private readonly int _fd;
    private readonly TimeProvider? _time;

    private WorkspaceHold(int fd, string entry, TimeProvider? time)
    {
        (_fd, Entry, _time) = (fd, entry, time);
    }

    /// <summary>The workspace's entry in the registry.</summary>
    public string Entry { get; }

    /// <summary>
    /// Holds an agent's workspace for an execution, marking it used now: null while it is being removed (try again).
    /// </summary>
    /// <exception cref="IOException">The registry cannot be written.</exception>
    public static WorkspaceHold? ForExecution(WorkspaceOptions options, string tenantId, string agentId, TimeProvider time)
    {
        var directory = Path.Combine(options.Root, RegistryDirectory, tenantId);
        AgentWorkspace.CreatePrivate(Path.Combine(options.Root, RegistryDirectory));
        AgentWorkspace.CreatePrivate(directory);
        var hold = Take(Path.Combine(directory, agentId), create: true, exclusive: false, time);
        try
        {
            hold?.Touch();
            return hold;
        }
        catch
        {
            hold!.Dispose();
            throw;
        }
    }

    /// <summary>Holds a registered workspace exclusively, to remove it: null when it is in use (or gone).</summary>
    public static WorkspaceHold? ForRemoval(string registryEntry) => Take(registryEntry, create: false, exclusive: true, time: null);

    /// <summary>The registry's entries: (tenant, agent, entry path) of every workspace registered on this machine.</summary>
    public static IEnumerable<(string Tenant, string Agent, string Entry)> Registered(WorkspaceOptions options)
    {
        var registry = Path.Combine(options.Root, RegistryDirectory);
        if (!Directory.Exists(registry))
        {
            yield break;
        }

        foreach (var tenantDirectory in Directory.EnumerateDirectories(registry))
        {
            foreach (var entry in Directory.EnumerateFiles(tenantDirectory))
            {
                yield return (Path.GetFileName(tenantDirectory), Path.GetFileName(entry), entry);
            }
        }
    }

    /// <summary>When the workspace was last used (its registry entry's modification time).</summary>
    public static DateTimeOffset LastUsed(string registryEntry) => new(File.GetLastWriteTimeUtc(registryEntry), TimeSpan.Zero);

    /// <summary>Removes the registry entry; only under an exclusive hold.</summary>
    public void Forget() => File.Delete(Entry);

    /// <summary>Marks the workspace used now (for an execution's hold) and lets it go.</summary>
    public void Dispose()
    {
        try
        {
            Touch();
        }
        catch (IOException)
        {
            // The use is recorded when the execution starts; a later one counts from then, which only removes sooner.
        }
        finally
        {
            _ = Posix.Close(_fd);
        }
    }

    private void Touch()
    {
        if (_time is not null)
        {
            File.SetLastWriteTimeUtc(Entry, _time.GetUtcNow().UtcDateTime);
        }
    }

    private static WorkspaceHold? Take(string path, bool create, bool exclusive, TimeProvider? time)
    {
        // An entry removed (by another silo's sweep) between opening and locking is no lock at all: open it again.
        for (var attempt = 0; attempt < 3; attempt++)
        {
            var fd = Posix.Open(path, Posix.ReadOnly | Posix.NoFollow | Posix.CloseOnExec | (create ? Posix.Create : 0), Convert.ToInt32("600", 8));
            if (fd < 0)
            {
                return !create && Posix.LastError == Posix.NoEntry ? null : throw new IOException($"{path}: {Posix.Describe(Posix.LastError)}");
            }

            if (!Posix.TryLock(fd, exclusive))
            {
                _ = Posix.Close(fd);
                return null;
            }

            if (Posix.InodeOf(fd) is { } held && held == Posix.InodeOf(path))
            {
                return new WorkspaceHold(fd, path, time);
            }

            _ = Posix.Close(fd);
            if (!create)
            {
                return null;
            }
        }

        throw new IOException($"{path} keeps being replaced");
    }
}

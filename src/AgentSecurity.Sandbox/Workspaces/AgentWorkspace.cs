using System.Security.Cryptography;
using System.Text;
using AgentSecurity.Grants;
using Microsoft.Win32.SafeHandles;

namespace AgentSecurity.Sandbox.Workspaces;

/// <summary>
/// An agent's workspace on this silo (<c>{root}/{tenant}/{agent}</c>), seen by agent code as <c>/workspace</c>, and the
/// host side of <c>fs.read</c>/<c>fs.write</c>. Native agent code can plant symbolic links and FIFOs in its workspace,
/// so files are opened component by component from the workspace's own directory with <c>O_NOFOLLOW</c> and
/// <c>O_NONBLOCK</c>: no link, however placed or swapped in meanwhile, leads a host call outside, and nothing blocks it.
/// <para>
/// When the silo runs as root, every workspace has an owner of its own: a user id claimed for the agent on this
/// machine, under which its native processes run (so the per-user process limit is the agent's alone) and to which
/// files written through the host API belong.
/// </para>
/// </summary>
public sealed class AgentWorkspace
{
    public const string Mount = "/workspace";

    private const string ClaimsDirectory = ".uids";

    /// <summary>Host writes between two measurements of the workspace (see <see cref="RoomFor"/>).</summary>
    private const int WritesPerMeasurement = 64;

    private readonly WriteAccount _writes = new();

    private AgentWorkspace(string directory, uint? owner, WorkspaceOptions options)
    {
        Directory = directory;
        Owner = owner;
        MaxBytes = options.MaxBytes;
        MaxEntries = options.MaxEntries;
    }

    /// <summary>The workspace directory on this machine.</summary>
    public string Directory { get; }

    /// <summary>The user id that owns the workspace and runs the agent's processes; null when the silo is not root.</summary>
    public uint? Owner { get; }

    /// <summary>Bytes the workspace may hold (<see cref="WorkspaceOptions.MaxBytes"/>).</summary>
    public long MaxBytes { get; }

    /// <summary>Entries the workspace may hold (<see cref="WorkspaceOptions.MaxEntries"/>).</summary>
    public int MaxEntries { get; }

    /// <summary>The agent's workspace, created (and, as root, given an owner) if needed. Ids are safe path components.</summary>
    /// <exception cref="IOException">The workspace cannot be created, or the directories it is in are not the silo's alone.</exception>
    public static AgentWorkspace For(WorkspaceOptions options, string tenantId, string agentId)
    {
        var tenant = Path.Combine(options.Root, tenantId);
        var directory = Path.Combine(tenant, agentId);
        foreach (var parent in new[] { options.Root, tenant })
        {
            CreateTraversable(parent);
        }

        System.IO.Directory.CreateDirectory(directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        if (!Posix.IsRoot)
        {
            return new AgentWorkspace(directory, null, options);
        }

        // As root the silo hands directories to agents' users: nobody else may be able to swap one in on the way.
        RequireTrusted(tenant);
        var handle = OpenDirectory(directory) ?? throw new IOException($"the workspace {directory} cannot be opened: {Posix.Describe(Posix.LastError)}");
        try
        {
            var agent = $"{tenantId}/{agentId}";
            var owner = Posix.OwnerOf(handle) ?? throw new IOException($"the owner of {directory} cannot be read");
            if (!IsClaimedBy(options, owner, agent))
            {
                owner = ClaimUserId(options, agent);
                if (Posix.ChangeOwner(handle, owner, owner) != 0)
                {
                    throw new IOException($"the workspace {directory} cannot be given to user {owner}: {Posix.Describe(Posix.LastError)}");
                }
            }

            return new AgentWorkspace(directory, owner, options);
        }
        finally
        {
            Posix.Close(handle);
        }
    }

    /// <summary>
    /// Removes an agent's workspace from this machine and gives back the user id it was given. The caller holds it
    /// (<see cref="WorkspaceHold.ForRemoval"/>), so nothing of the agent runs. Everything in it is removed through
    /// directory descriptors, links as links. As root, only a workspace owned by the user id claimed for this agent is
    /// removed: whatever else is there was not made by the silo.
    /// </summary>
    /// <exception cref="IOException">The workspace could not be removed (whatever was removed stays removed).</exception>
    public static void Remove(WorkspaceOptions options, string tenantId, string agentId)
    {
        var directory = Path.Combine(options.Root, tenantId, agentId);
        if (Posix.StatOf(directory) is not { } stat)
        {
            return;
        }

        var owner = stat.Owner;
        var claimed = InRange(options, owner) && ClaimHolder(options, owner) == $"{tenantId}/{agentId}";
        if ((stat.Mode & Posix.TypeMask) != Posix.TypeDirectory || (Posix.IsRoot && !claimed))
        {
            throw new IOException($"{directory} is not a workspace this silo gave to {tenantId}/{agentId}; it is left alone");
        }

        if (OpenDirectory(directory) is not { } handle)
        {
            throw new IOException($"the workspace {directory} cannot be opened: {Posix.Describe(Posix.LastError)}");
        }

        try
        {
            WorkspaceTree.RemoveContents(handle);
        }
        finally
        {
            Posix.Close(handle);
        }

        System.IO.Directory.Delete(directory);
        if (claimed)
        {
            File.Delete(ClaimPath(options, owner));
        }
    }

    /// <summary>
    /// A directory and every directory above it belong to root, are not links, and cannot be changed by anyone else
    /// (a directory others may write is trusted only with the sticky bit, like <c>/tmp</c>, and never as the last two).
    /// </summary>
    private static void RequireTrusted(string tenantDirectory)
    {
        var path = Path.GetFullPath(tenantDirectory);
        for (var (current, depth) = (path, 0); !string.IsNullOrEmpty(current); (current, depth) = (Path.GetDirectoryName(current), depth + 1))
        {
            var stat = Posix.StatOf(current) ?? throw new IOException($"{current} cannot be examined");
            var othersMayWrite = (stat.Mode & Posix.GroupOrOtherWrite) != 0;
            if ((stat.Mode & Posix.TypeMask) != Posix.TypeDirectory || stat.Owner != 0 || (othersMayWrite && (depth < 2 || (stat.Mode & Posix.Sticky) == 0)))
            {
                throw new IOException($"{current} is not a directory that only root can change; agents' workspaces must not be under it");
            }
        }
    }

    /// <summary>Whether a user id is of the range and claimed for this agent (not another, and not unclaimed).</summary>
    private static bool IsClaimedBy(WorkspaceOptions options, uint owner, string agent)
    {
        if (!InRange(options, owner))
        {
            return false;
        }

        var holder = ClaimHolder(options, owner);
        return holder == agent
            ? true
            : throw new IOException($"the workspace of {agent} belongs to user {owner}, which is claimed by {(holder is null ? "no one" : "another agent")}; move the workspace away to give it a new owner");
    }

    private static bool InRange(WorkspaceOptions options, uint uid) => uid >= options.FirstUserId && uid - options.FirstUserId < options.UserIdCount;

    /// <summary>The agent (<c>tenant/agent</c>) a user id of the range is claimed for, or null.</summary>
    private static string? ClaimHolder(WorkspaceOptions options, uint uid) =>
        File.Exists(ClaimPath(options, uid)) ? File.ReadAllText(ClaimPath(options, uid)) : null;

    private static string ClaimPath(WorkspaceOptions options, uint uid) =>
        Path.Combine(options.Root, ClaimsDirectory, uid.ToString(System.Globalization.CultureInfo.InvariantCulture));

    /// <summary>Creates a directory only its owner (the silo) can enter.</summary>
    internal static void CreatePrivate(string path) =>
        System.IO.Directory.CreateDirectory(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);

    /// <summary>
    /// Creates a directory only its owner can list or change but anyone can pass through: an agent's process (as the
    /// agent's user) must reach its own workspace to have it bound into its sandbox, and nothing else.
    /// </summary>
    internal static void CreateTraversable(string path)
    {
        const UnixFileMode Traversable = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute;
        var directory = System.IO.Directory.CreateDirectory(path, Traversable);
        if ((directory.UnixFileMode & UnixFileMode.OtherExecute) == 0)
        {
            directory.UnixFileMode |= UnixFileMode.GroupExecute | UnixFileMode.OtherExecute;
        }
    }

    /// <summary>
    /// Creates the scratch root of sandboxed processes traversable, and the directory it is in (the workspace root):
    /// a sandbox's user passes through both, and before any workspace exists nothing has made the root traversable
    /// (a root made private, as <c>mktemp -d</c> makes one, kept every JavaScript worker from starting).
    /// </summary>
    internal static void CreateTraversableScratchRoot(string scratchRoot)
    {
        if (Path.GetDirectoryName(Path.TrimEndingDirectorySeparator(scratchRoot)) is { Length: > 0 } parent)
        {
            CreateTraversable(parent);
        }

        CreateTraversable(scratchRoot);
    }

    /// <summary>
    /// A user id of the configured range that no other workspace here has: the agent's hash picks where to start, and
    /// creating <c>{root}/.uids/{uid}</c> (atomically, holding the agent's name) claims it.
    /// </summary>
    private static uint ClaimUserId(WorkspaceOptions options, string agent)
    {
        System.IO.Directory.CreateDirectory(Path.Combine(options.Root, ClaimsDirectory), UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        var start = BitConverter.ToUInt64(SHA256.HashData(Encoding.UTF8.GetBytes(agent))) % options.UserIdCount;
        for (var i = 0u; i < options.UserIdCount; i++)
        {
            var uid = options.FirstUserId + (uint)((start + i) % options.UserIdCount);
            try
            {
                using var claim = new FileStream(ClaimPath(options, uid), FileMode.CreateNew, FileAccess.Write, FileShare.None);
                claim.Write(Encoding.UTF8.GetBytes(agent));
                return uid;
            }
            catch (IOException) when (File.Exists(ClaimPath(options, uid)) || System.IO.Directory.Exists(ClaimPath(options, uid)))
            {
                // claimed already: the next one
            }
        }

        throw new IOException($"all {options.UserIdCount} user ids from {options.FirstUserId} are claimed");
    }

    /// <summary>
    /// What the workspace holds now, or null when it cannot be measured (unreadable, or nested deeper than
    /// <see cref="WorkspaceTree.MaxDepth"/>), which callers treat as over its limits. Links are counted, never followed
    /// (native agent code plants them anywhere), and the walk stops one entry past <see cref="MaxEntries"/>, which
    /// bounds its cost. Native code may change the workspace meanwhile: the figure is a snapshot, and what vanished
    /// during the walk is not counted.
    /// </summary>
    public WorkspaceUsage? Measure()
    {
        if (OpenDirectory(Directory) is not { } directory)
        {
            return null;
        }

        try
        {
            return WorkspaceTree.Measure(directory, MaxEntries);
        }
        finally
        {
            Posix.Close(directory);
        }
    }

    /// <summary>Why a workspace that <see cref="Measure"/> cannot measure is over its limits.</summary>
    public static readonly string Unmeasurable = $"the workspace cannot be measured: it is unreadable or nested deeper than {WorkspaceTree.MaxDepth} directories";

    /// <summary>Why a workspace holding <paramref name="usage"/> is over its limits, or null when it is not.</summary>
    public string? Exceeded(WorkspaceUsage usage) =>
        usage.Bytes > MaxBytes ? $"the workspace holds more than its {MaxBytes} bytes ({usage.Bytes})"
        : usage.Entries > MaxEntries ? $"the workspace holds more than its {MaxEntries} files and directories"
        : null;

    /// <summary>The components of an agent path under <c>/workspace/</c>, or why there are none.</summary>
    public static Result<string[]> Split(string agentPath)
    {
        if (!agentPath.StartsWith(Mount + "/", StringComparison.Ordinal) || agentPath.Length == Mount.Length + 1)
        {
            return Violation($"only files under {Mount}/ exist for agent code, not {agentPath}");
        }

        // The check already refused paths that are not in normal form (.., //, NUL, controls), so the split is exact.
        var parts = agentPath[(Mount.Length + 1)..].Split('/');
        return parts.Any(p => p.Length == 0 || p is "." or "..") ? Violation($"{agentPath} is not a file path") : Result<string[]>.Ok(parts);
    }

    private static Failure Violation(string message) => new(ReasonCodes.SandboxViolation, message);

    /// <summary>A file's text, or why not (<see cref="WorkspaceErrors.NotFound"/>, <c>sandbox_violation</c>, <c>quota_exceeded</c>, ...).</summary>
    public Result<string> Read(string agentPath, int maxBytes)
    {
        if (!Split(agentPath).TryGetValue(out var parts, out var invalid))
        {
            return invalid;
        }

        if (!Open(parts, write: false).TryGetValue(out var opened, out var error))
        {
            return error;
        }

        using var handle = opened;

        // A directory is no file to read; anything but a regular file (a FIFO, a device, a socket) was planted.
        switch (Posix.StatOf(handle)?.Mode & Posix.TypeMask)
        {
            case Posix.TypeDirectory:
                return new Failure(WorkspaceErrors.NotFound, $"{agentPath} is a directory");
            case not Posix.TypeRegular:
                return Violation($"{agentPath} is not a regular file");
        }

        using var stream = new FileStream(handle, FileAccess.Read);

        // Sized by the file, and read to its end even if it grows meanwhile, up to one byte over the limit.
        using var content = new MemoryStream((int)Math.Min(stream.Length, maxBytes) + 1);
        var chunk = new byte[Math.Min(64 * 1024, maxBytes + 1)];
        int n;
        while (content.Length <= maxBytes && (n = stream.Read(chunk, 0, (int)Math.Min(chunk.Length, maxBytes + 1 - content.Length))) > 0)
        {
            content.Write(chunk, 0, n);
        }

        return content.Length > maxBytes
            ? new Failure(ReasonCodes.QuotaExceeded, $"{agentPath} is larger than {maxBytes} bytes, the most a host read returns")
            : Result<string>.Ok(Encoding.UTF8.GetString(content.GetBuffer(), 0, (int)content.Length));
    }

    /// <summary>Writes a file (replacing what it holds) within the workspace's limits; null, or why not.</summary>
    public Failure? Write(string agentPath, byte[] content)
    {
        if (!Split(agentPath).TryGetValue(out var parts, out var invalid))
        {
            return invalid;
        }

        lock (_writes)
        {
            if (RoomFor(agentPath, parts, content.Length) is { } full)
            {
                return full;
            }

            if (!Open(parts, write: true).TryGetValue(out var opened, out var error))
            {
                return error;
            }

            using var handle = opened;

            using var stream = new FileStream(handle, FileAccess.Write);
            if (!stream.CanSeek)
            {
                return Violation($"{agentPath} is not a regular file");
            }

            stream.Write(content);
            return null;
        }
    }

    /// <summary>
    /// Whether writing <paramref name="bytes"/> to a file (replacing what it holds) keeps the workspace within its
    /// limits; if not, the refusal, and nothing is created or truncated. If so, the write is counted as done.
    /// </summary>
    /// <remarks>
    /// Measuring a full workspace takes milliseconds, and host writes come by the thousand: the workspace is measured
    /// again every <see cref="WritesPerMeasurement"/> writes (refused ones too), and the writes between are counted as they go (each
    /// directory of a new file's path as a new entry, which may count some twice: the error is towards refusing).
    /// What other writers change meanwhile (another execution of the agent) is seen at the next measurement.
    /// </remarks>
    private Failure? RoomFor(string agentPath, string[] parts, long bytes)
    {
        if (_writes.Known is null || _writes.Since >= WritesPerMeasurement)
        {
            _writes.Known = Measure();
            _writes.Since = 0;
        }

        _writes.Since++; // refused writes too: a refused one may be waiting for another writer to clean up

        if (_writes.Known is not { } usage)
        {
            return new Failure(ReasonCodes.QuotaExceeded, Unmeasurable);
        }

        var existing = -1L;
        if (Open(parts, write: false).TryGetValue(out var current))
        {
            using (current)
            {
                if ((Posix.StatOf(current)?.Mode & Posix.TypeMask) == Posix.TypeRegular)
                {
                    existing = RandomAccess.GetLength(current);
                }
            }
        }

        var after = new WorkspaceUsage(usage.Bytes - Math.Max(existing, 0) + bytes, usage.Entries + (existing < 0 ? parts.Length : 0));
        if (Exceeded(after) is { } full)
        {
            return new Failure(ReasonCodes.QuotaExceeded, $"writing {agentPath} ({bytes} bytes): {full}");
        }

        _writes.Known = after;
        return null;
    }

    /// <summary>What host writes know of the workspace's usage; also their lock.</summary>
    private sealed class WriteAccount
    {
        public WorkspaceUsage? Known { get; set; }

        public int Since { get; set; }
    }

    private static int? OpenDirectory(string path)
    {
        var fd = Posix.Open(path, Posix.ReadOnly | Posix.DirectoryOnly | Posix.NoFollow | Posix.CloseOnExec, 0);
        return fd < 0 ? null : fd;
    }

    private Result<SafeFileHandle> Open(string[] parts, bool write)
    {
        if (OpenDirectory(Directory) is not { } directory)
        {
            return new Failure(ReasonCodes.Unavailable, $"the workspace cannot be opened ({Posix.Describe(Posix.LastError)})");
        }

        try
        {
            foreach (var part in parts[..^1])
            {
                var created = write && Posix.MakeDirectoryAt(directory, part, Convert.ToInt32("755", 8)) == 0;
                var next = Posix.OpenAt(directory, part, Posix.ReadOnly | Posix.DirectoryOnly | Posix.NoFollow | Posix.CloseOnExec, 0);
                if (next < 0)
                {
                    return OpenFailure(Posix.LastError, part);
                }

                Posix.Close(directory);
                directory = next;
                if (created)
                {
                    GiveToOwner(directory);
                }
            }

            // Non-blocking, so a FIFO planted by native agent code cannot hang the host (it is then refused as not a file).
            var flags = (write ? Posix.WriteOnly | Posix.Create | Posix.Truncate : Posix.ReadOnly) | Posix.NoFollow | Posix.NonBlocking | Posix.CloseOnExec;
            var file = Posix.OpenAt(directory, parts[^1], flags, Convert.ToInt32("644", 8));
            if (file < 0)
            {
                return OpenFailure(Posix.LastError, parts[^1]);
            }

            if (write)
            {
                GiveToOwner(file);
            }

            return Result<SafeFileHandle>.Ok(new SafeFileHandle(file, ownsHandle: true));
        }
        finally
        {
            Posix.Close(directory);
        }
    }

    /// <summary>What the host creates in a workspace belongs to the workspace's owner, so the agent's processes can change it.</summary>
    private void GiveToOwner(int fd)
    {
        if (Owner is { } owner && Posix.OwnerOf(fd) != owner)
        {
            _ = Posix.ChangeOwner(fd, owner, owner);
        }
    }

    private static Failure OpenFailure(int errno, string part) => errno switch
    {
        Posix.NoEntry => new(WorkspaceErrors.NotFound, $"no such file or directory: {part}"),
        Posix.NoDeviceOrAddress => Violation($"{part} is not a regular file"),
        Posix.Loop or Posix.NotDirectory => Violation($"{part} is a link or not a directory: host calls follow no links"),
        Posix.IsDirectory => new(WorkspaceErrors.NotFound, $"{part} is a directory"),
        _ => new(ReasonCodes.Unavailable, $"{part}: {Posix.Describe(errno)}"),
    };
}

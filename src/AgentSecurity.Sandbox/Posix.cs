using System.ComponentModel;
using System.Runtime.InteropServices;

namespace AgentSecurity.Sandbox;

/// <summary>
/// The few Linux calls .NET does not offer: opening relative to a directory without following links, ownership, the
/// owner of a path, walking and removing a directory tree by descriptors and raw names, and <c>flock</c>. The statx
/// and dirent layouts used here are the same on x86-64 and arm64.
/// </summary>
internal static partial class Posix
{
    public const int ReadOnly = 0;
    public const int WriteOnly = 1;
    public const int Create = 0x40;
    public const int Truncate = 0x200;
    public const int NonBlocking = 0x800;
    public const int CloseOnExec = 0x80000;

    public const int NoEntry = 2;
    public const int NoDeviceOrAddress = 6;
    public const int Exists = 17;
    public const int NotDirectory = 20;
    public const int IsDirectory = 21;
    public const int Loop = 40;

    private const int AtFdCwd = -100;
    private const int AtSymlinkNoFollow = 0x100;
    private const uint StatxUid = 0x8;

    // These differ between x86-64 and arm64 Linux.
    public static readonly int DirectoryOnly = RuntimeInformation.ProcessArchitecture == Architecture.Arm64 ? 0x4000 : 0x10000;
    public static readonly int NoFollow = RuntimeInformation.ProcessArchitecture == Architecture.Arm64 ? 0x8000 : 0x20000;

    public static bool IsRoot => GetEffectiveUserId() == 0;

    public static int LastError => Marshal.GetLastPInvokeError();

    public static string Describe(int errno) => new Win32Exception(errno).Message;

    /// <summary>The owner of a path (not following a final link), or null when it cannot be read.</summary>
    public static uint? OwnerOf(string path)
    {
        Span<byte> buffer = stackalloc byte[256];
        return StatX(AtFdCwd, path, AtSymlinkNoFollow, StatxUid, ref MemoryMarshal.GetReference(buffer)) == 0
            ? BitConverter.ToUInt32(buffer[20..24])
            : null;
    }

    /// <summary>Owner and mode (type and permission bits) of a path, not following a final link; null when it cannot be read.</summary>
    public static (uint Owner, uint Mode)? StatOf(string path)
    {
        Span<byte> buffer = stackalloc byte[256];
        const uint TypeAndMode = 0x2 | 0x4;
        return StatX(AtFdCwd, path, AtSymlinkNoFollow, StatxUid | TypeAndMode, ref MemoryMarshal.GetReference(buffer)) == 0
            ? (BitConverter.ToUInt32(buffer[20..24]), BitConverter.ToUInt16(buffer[28..30]))
            : null;
    }

    /// <summary>Owner and mode of an open file or directory.</summary>
    public static (uint Owner, uint Mode)? StatOf(SafeHandle handle)
    {
        Span<byte> buffer = stackalloc byte[256];
        const uint TypeAndMode = 0x2 | 0x4;
        var fd = (int)handle.DangerousGetHandle();
        return StatX(fd, string.Empty, 0x1000 /* AT_EMPTY_PATH */, StatxUid | TypeAndMode, ref MemoryMarshal.GetReference(buffer)) == 0
            ? (BitConverter.ToUInt32(buffer[20..24]), BitConverter.ToUInt16(buffer[28..30]))
            : null;
    }

    public const uint TypeMask = 0xF000;
    public const uint TypeRegular = 0x8000;
    public const uint TypeDirectory = 0x4000;
    public const uint Sticky = 0x200;
    public const uint GroupOrOtherWrite = 0x12; // 020 | 002

    /// <summary>The owner of an open file or directory.</summary>
    public static uint? OwnerOf(int fd)
    {
        Span<byte> buffer = stackalloc byte[256];
        return StatX(fd, string.Empty, 0x1000 /* AT_EMPTY_PATH */, StatxUid, ref MemoryMarshal.GetReference(buffer)) == 0
            ? BitConverter.ToUInt32(buffer[20..24])
            : null;
    }

    /// <summary>
    /// Marks every descriptor of this process but the standard three close-on-exec: .NET opens its own that way, but
    /// the silo's parent may have left it some that are not, and a child would inherit them.
    /// </summary>
    public static void CloseInheritedOnExec()
    {
        const int SetDescriptorFlags = 2; // F_SETFD
        const int CloseOnExecFlag = 1;    // FD_CLOEXEC
        foreach (var entry in Directory.EnumerateFileSystemEntries("/proc/self/fd"))
        {
            if (int.TryParse(Path.GetFileName(entry), out var fd) && fd > 2)
            {
                _ = Control(fd, SetDescriptorFlags, CloseOnExecFlag);
            }
        }
    }

    [LibraryImport("libc", EntryPoint = "fcntl")]
    private static partial int Control(int fd, int command, int argument);

    [LibraryImport("libc", EntryPoint = "geteuid")]
    private static partial uint GetEffectiveUserId();

    [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int Open(string path, int flags, int mode);

    [LibraryImport("libc", EntryPoint = "openat", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int OpenAt(int directory, string path, int flags, int mode);

    [LibraryImport("libc", EntryPoint = "mkdirat", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int MakeDirectoryAt(int directory, string path, int mode);

    [LibraryImport("libc", EntryPoint = "mkdir", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int MakeDirectory(string path, int mode);

    [LibraryImport("libc", EntryPoint = "fchown", SetLastError = true)]
    public static partial int ChangeOwner(int fd, uint owner, uint group);

    /// <summary>Changes the owner of a path itself, never of what a link points to (lchown).</summary>
    [LibraryImport("libc", EntryPoint = "lchown", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int ChangeOwnerOfPath(string path, uint owner, uint group);

    [LibraryImport("libc", EntryPoint = "fchmod", SetLastError = true)]
    public static partial int ChangeMode(int fd, int mode);

    [LibraryImport("libc", EntryPoint = "close", SetLastError = true)]
    public static partial int Close(int fd);

    [LibraryImport("libc", EntryPoint = "statx", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int StatX(int directory, string path, int flags, uint mask, ref byte buffer);

    // Names as raw bytes (NUL-terminated): a file name need not be UTF-8, and one that is not must still be found.

    [LibraryImport("libc", EntryPoint = "statx", SetLastError = true)]
    private static partial int StatXRaw(int directory, ref byte name, int flags, uint mask, ref byte buffer);

    [LibraryImport("libc", EntryPoint = "openat", SetLastError = true)]
    private static partial int OpenAtRaw(int directory, ref byte name, int flags, int mode);

    [LibraryImport("libc", EntryPoint = "unlinkat", SetLastError = true)]
    private static partial int UnlinkAtRaw(int directory, ref byte name, int flags);

    [LibraryImport("libc", EntryPoint = "fdopendir", SetLastError = true)]
    private static partial nint OpenDirectoryStream(int fd);

    [LibraryImport("libc", EntryPoint = "readdir64", SetLastError = true)]
    private static partial nint ReadDirectory(nint stream);

    [LibraryImport("libc", EntryPoint = "closedir")]
    private static partial int CloseDirectoryStream(nint stream);

    [LibraryImport("libc", EntryPoint = "dup", SetLastError = true)]
    private static partial int Duplicate(int fd);

    [LibraryImport("libc", EntryPoint = "flock", SetLastError = true)]
    private static partial int FileLock(int fd, int operation);

    /// <summary>Takes a shared or exclusive lock on an open file without waiting; false when someone else holds a conflicting one.</summary>
    public static bool TryLock(int fd, bool exclusive) => FileLock(fd, (exclusive ? 2 : 1) | 4 /* LOCK_NB */) == 0;

    /// <summary>The inode of an open file, or of a path (not following a final link); null when it cannot be read.</summary>
    public static ulong? InodeOf(int fd)
    {
        Span<byte> buffer = stackalloc byte[256];
        return StatX(fd, string.Empty, 0x1000 /* AT_EMPTY_PATH */, 0x100 /* STATX_INO */, ref MemoryMarshal.GetReference(buffer)) == 0
            ? BitConverter.ToUInt64(buffer[32..40])
            : null;
    }

    public static ulong? InodeOf(string path)
    {
        Span<byte> buffer = stackalloc byte[256];
        return StatX(AtFdCwd, path, AtSymlinkNoFollow, 0x100 /* STATX_INO */, ref MemoryMarshal.GetReference(buffer)) == 0
            ? BitConverter.ToUInt64(buffer[32..40])
            : null;
    }

    /// <summary>Type (and permission bits) and size of a directory's entry, not following a link; null with the error.</summary>
    public static (uint Mode, long Size)? StatAt(int directory, ReadOnlySpan<byte> name, out int error)
    {
        Span<byte> buffer = stackalloc byte[256];
        const uint TypeSizeMask = 0x1 | 0x200; // STATX_TYPE | STATX_SIZE
        var result = StatXRaw(directory, ref MemoryMarshal.GetReference(name), AtSymlinkNoFollow, TypeSizeMask, ref MemoryMarshal.GetReference(buffer));
        error = result == 0 ? 0 : LastError;
        return result == 0 ? (BitConverter.ToUInt16(buffer[28..30]), BitConverter.ToInt64(buffer[40..48])) : null;
    }

    /// <summary>Opens a directory's subdirectory, never through a link; -1 with the error.</summary>
    public static int OpenSubdirectory(int directory, ReadOnlySpan<byte> name, out int error)
    {
        var fd = OpenAtRaw(directory, ref MemoryMarshal.GetReference(name), ReadOnly | DirectoryOnly | NoFollow | CloseOnExec, 0);
        error = fd < 0 ? LastError : 0;
        return fd;
    }

    /// <summary>Removes a directory's entry (a subdirectory with <paramref name="directoryEntry"/>, which must be empty).</summary>
    public static int UnlinkAt(int directory, ReadOnlySpan<byte> name, bool directoryEntry) =>
        UnlinkAtRaw(directory, ref MemoryMarshal.GetReference(name), directoryEntry ? 0x200 /* AT_REMOVEDIR */ : 0) == 0 ? 0 : LastError;

    /// <summary>
    /// The names in a directory (without <c>.</c> and <c>..</c>), each as raw bytes with its terminating NUL, read from a
    /// duplicate of <paramref name="directory"/> (which stays open); null with the error when it cannot be read.
    /// </summary>
    public static unsafe List<byte[]>? NamesIn(int directory, out int error)
    {
        var copy = Duplicate(directory);
        var stream = copy < 0 ? 0 : OpenDirectoryStream(copy);
        if (stream == 0)
        {
            error = LastError;
            if (copy >= 0)
            {
                _ = Close(copy);
            }

            return null;
        }

        try
        {
            var names = new List<byte[]>();
            const int NameOffset = 19; // d_ino, d_off, d_reclen, d_type: the same on x86-64 and arm64
            nint entry;
            while ((entry = ReadDirectory(stream)) != 0)
            {
                var name = MemoryMarshal.CreateReadOnlySpanFromNullTerminated((byte*)entry + NameOffset);
                if (!name.SequenceEqual("."u8) && !name.SequenceEqual(".."u8))
                {
                    names.Add([.. name, 0]);
                }
            }

            error = LastError;
            return error == 0 ? names : null;
        }
        finally
        {
            _ = CloseDirectoryStream(stream);
        }
    }

}

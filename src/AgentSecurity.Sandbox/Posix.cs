using System.ComponentModel;
using System.Runtime.InteropServices;

namespace AgentSecurity.Sandbox;

/// <summary>
/// The few Linux calls .NET does not offer: opening relative to a directory without following links, ownership, and
/// the owner of a path. The statx layout used here is the same on x86-64 and arm64.
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

}

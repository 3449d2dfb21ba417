using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Runtime.InteropServices;

namespace AgentSecurity.Sandbox.Processes;

/// <summary>
/// The system calls a sandboxed process may not make, as a classic BPF program for bubblewrap's <c>--seccomp</c>:
/// the kernel surface an agent has no use for and that container runtimes deny by default (module loading, kexec,
/// mounts, namespaces, keyrings, ptrace and cross-process memory access, BPF, perf, userfaultfd, io_uring, handle-based
/// opens), plus <c>memfd_create</c> and <c>shmget</c>, whose memory no address-space limit counts. They fail with EPERM (<c>clone3</c>
/// with ENOSYS, so that the C library falls back to <c>clone</c>); a system call of another ABI kills the process.
/// </summary>
internal static class SeccompFilter
{
    private const ushort Load = 0x20;        // BPF_LD | BPF_W | BPF_ABS
    private const ushort JumpIfEqual = 0x15; // BPF_JMP | BPF_JEQ | BPF_K
    private const ushort JumpIfAtLeast = 0x35; // BPF_JMP | BPF_JGE | BPF_K
    private const ushort Return = 0x06;      // BPF_RET | BPF_K

    private const uint Allow = 0x7fff0000;
    private const uint KillProcess = 0x80000000;
    private const uint Error = 0x00050000;   // SECCOMP_RET_ERRNO | errno
    private const uint NotPermitted = 1;     // EPERM
    private const uint NotImplemented = 38;  // ENOSYS

    private const uint X32Bit = 0x40000000;

    private static readonly (uint Arch, int[] Denied, int Clone3)? Table = RuntimeInformation.ProcessArchitecture switch
    {
        // AUDIT_ARCH_X86_64
        Architecture.X64 => (0xC000003E, [
            101, 310, 311, 312,          // ptrace, process_vm_readv/writev, kcmp
            103, 134, 135, 136, 139,     // syslog, uselib, personality, ustat, sysfs
            153, 155, 156, 161, 163,     // vhangup, pivot_root, _sysctl, chroot, acct
            165, 166, 167, 168, 169,     // mount, umount2, swapon, swapoff, reboot
            170, 171, 172, 173,          // sethostname, setdomainname, iopl, ioperm
            174, 175, 176, 177, 179, 180, 313, // module and kernel-symbol calls, quotactl, nfsservctl
            212, 246, 320,               // lookup_dcookie, kexec_load, kexec_file_load
            248, 249, 250,               // add_key, request_key, keyctl
            272, 308,                    // unshare, setns
            298, 321, 323, 319, 29,      // perf_event_open, bpf, userfaultfd, memfd_create, shmget
            303, 304,                    // name_to_handle_at, open_by_handle_at
            425, 426, 427,               // io_uring
            428, 429, 430, 431, 432, 433, 442, // the new mount API
        ], 435),

        // AUDIT_ARCH_AARCH64: the generic system call table
        Architecture.Arm64 => (0xC00000B7, [
            117, 270, 271, 272,
            116, 92, 58, 41, 51, 89,
            40, 39, 224, 225, 142,
            161, 162,
            105, 106, 273, 60,
            18, 104, 294,
            217, 218, 219,
            97, 268,
            241, 280, 282, 279, 194,
            264, 265,
            425, 426, 427,
            428, 429, 430, 431, 432, 433, 442,
        ], 435),
        _ => null,
    };

    private static readonly ConcurrentDictionary<string, Lazy<string>> Files = new(StringComparer.Ordinal);

    /// <summary>Whether this machine's architecture has a filter; without one native executions do not run.</summary>
    public static bool Available => Table is not null;

    /// <summary>
    /// The filter's file in <paramref name="scratchRoot"/>, written once per process by root where only root can write.
    /// Executions and servers of a silo share it, and another silo may share the directory: it is written beside and
    /// renamed into place, so a sandbox starting meanwhile never reads half a filter.
    /// </summary>
    public static string FileIn(string scratchRoot) => Files.GetOrAdd(scratchRoot, root => new Lazy<string>(() =>
    {
        Workspaces.AgentWorkspace.CreateTraversableScratchRoot(root);
        var path = Path.Combine(root, "seccomp.bpf");
        var written = $"{path}.{Guid.NewGuid():N}";
        File.WriteAllBytes(written, Program());
        File.Move(written, path, overwrite: true);
        return path;
    })).Value;

    /// <summary>The program's bytes (struct sock_filter, little-endian), as <c>--seccomp</c> reads them.</summary>
    public static byte[] Program()
    {
        var (arch, denied, clone3) = Table ?? throw new PlatformNotSupportedException("no seccomp filter for this architecture");
        var code = new List<(ushort Code, byte True, byte False, uint K)>
        {
            (Load, 0, 0, 4),                 // seccomp_data.arch
        };

        // Layout: arch load and check, nr load, ABI check (0-3), one check per denied call, clone3, then [allow]
        // [EPERM] [ENOSYS] [kill]; a jump counts the instructions it skips after its own.
        var allowAt = 4 + denied.Length + 1;
        int ToAllow(int at) => allowAt - at - 1;
        int ToPermission(int at) => ToAllow(at) + 1;
        int ToNotImplemented(int at) => ToAllow(at) + 2;
        int ToKill(int at) => ToAllow(at) + 3;

        code.Add((JumpIfEqual, 0, (byte)ToKill(1), arch));
        code.Add((Load, 0, 0, 0));           // seccomp_data.nr
        code.Add((JumpIfAtLeast, (byte)ToKill(3), 0, X32Bit));
        foreach (var nr in denied)
        {
            code.Add((JumpIfEqual, (byte)ToPermission(code.Count), 0, (uint)nr));
        }

        code.Add((JumpIfEqual, (byte)ToNotImplemented(code.Count), 0, (uint)clone3));
        code.Add((Return, 0, 0, Allow));
        code.Add((Return, 0, 0, Error | NotPermitted));
        code.Add((Return, 0, 0, Error | NotImplemented));
        code.Add((Return, 0, 0, KillProcess));

        var bytes = new byte[code.Count * 8];
        for (var i = 0; i < code.Count; i++)
        {
            var span = bytes.AsSpan(i * 8, 8);
            BinaryPrimitives.WriteUInt16LittleEndian(span, code[i].Code);
            span[2] = code[i].True;
            span[3] = code[i].False;
            BinaryPrimitives.WriteUInt32LittleEndian(span[4..], code[i].K);
        }

        return bytes;
    }
}

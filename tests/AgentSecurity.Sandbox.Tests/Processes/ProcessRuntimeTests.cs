using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using AgentSecurity.Grants;
using AgentSecurity.Sandbox.Host;
using AgentSecurity.Sandbox.Processes;
using AgentSecurity.Sandbox.Tests.Infrastructure;
using AgentSecurity.Sandbox.Workspaces;

namespace AgentSecurity.Sandbox.Tests.Processes;

/// <summary>
/// Native processes under bubblewrap, for real: the scripts and the CI install bubblewrap and run as root, which the
/// runtime needs; where either is missing these tests fail with the runtime's reason rather than pass unseen.
/// </summary>
public sealed class ProcessRuntimeTests
{
    private static readonly ProcessRuntime Runtime = new(new ProcessRuntimeOptions { ScratchRoot = Path.Combine(Jobs.Workspaces.Root, ".exec") });

    private static async Task<SandboxResult> RunAsync(string script, string input = "", SandboxLimits? limits = null, IHostApi? host = null, AgentWorkspace? workspace = null, CancellationToken cancellation = default)
    {
        Assert.True(Runtime.Unavailable is null, $"the native runtime cannot run here: {Runtime.Unavailable}");
        return await Runtime.RunAsync(Jobs.For(SandboxRuntimes.Process, script, input, limits, workspace), host ?? FakeHostApi.AllowingEverything(), cancellation);
    }

    private static async Task AssertHealthyAsync(AgentWorkspace? workspace = null)
    {
        var next = await RunAsync("#!/bin/sh\ntr a-z A-Z\n", "still here", workspace: workspace);
        Assert.True(next.Ok, next.Message);
        Assert.Equal("STILL HERE", next.Output);
    }

    [Fact]
    public async Task RunAsync_Script_ReadsInputAndWritesOutput()
    {
        var result = await RunAsync("#!/bin/sh\necho \"got: $(cat)\"; id -u; pwd; echo err >&2\n", "hello");

        Assert.True(result.Ok, result.Message);
        var lines = result.Output.Split('\n');
        Assert.Equal("got: hello", lines[0]);
        Assert.NotEqual("0", lines[1]); // never root, not even inside its namespace
        Assert.Contains("/workspace", lines, StringComparer.Ordinal);
        Assert.Contains("err", lines, StringComparer.Ordinal);
        Assert.True(result.Usage.WallMillis > 0);
    }

    [Fact]
    public async Task RunAsync_MalformedHostRequest_IsAnsweredWithInvalidRequest()
    {
        var result = await RunAsync("""
            #!/usr/bin/perl
            use IO::Socket::UNIX;
            my $host = IO::Socket::UNIX->new(Peer => $ENV{AGENTSEC_HOST_SOCKET}) or die;
            print $host "not json\n"; print scalar <$host>;
            print $host "{\"op\": 7}\n"; print scalar <$host>;
            print $host "{\"op\": \"memory.get\", \"arg\": [1]}\n"; print scalar <$host>;
            """);

        Assert.True(result.Ok, result.Message);
        Assert.Equal(3, result.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Count(l => l.Contains("\"error\":\"invalid_request\"", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task RunAsync_Sleeper_IsKilledAtTheWallClockLimit()
    {
        var watch = Stopwatch.StartNew();

        var result = await RunAsync("#!/bin/sh\nsleep 100\n", limits: Jobs.Limits with { WallTime = TimeSpan.FromMilliseconds(500) });

        Assert.Equal(ReasonCodes.Timeout, result.Error);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(5), $"took {watch.Elapsed}");
    }

    [Fact]
    public async Task RunAsync_Cancelled_KillsTheProcessTreePromptly()
    {
        var workspace = Jobs.NewWorkspace();
        using var stop = new CancellationTokenSource();
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var host = FakeHostApi.AllowingEverything();
        host.OnCall = _ => started.TrySetResult();

        // The script's host call, made once its background processes are forked, is the marker that it runs.
        var run = RunAsync(
            "#!/bin/sh\nsleep 1000 & sleep 1000 & perl -MIO::Socket::UNIX -e '$h = IO::Socket::UNIX->new(Peer => $ENV{AGENTSEC_HOST_SOCKET}) or die; print $h qq({\"op\":\"memory.get\",\"arg\":\"started\"}\\n); <$h>'\nwhile :; do :; done\n",
            limits: Jobs.Limits with { CpuTime = TimeSpan.FromMinutes(5), WallTime = TimeSpan.FromMinutes(5) }, host: host, workspace: workspace, cancellation: stop.Token);
        await started.Task.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.False(run.IsCompleted);

        await stop.CancelAsync();
        var result = await run.WaitAsync(TimeSpan.FromSeconds(10)); // the limits would let it run five minutes

        Assert.Equal(SandboxResult.Cancelled, result.Error);
        Assert.Equal(0, await UserProcesses.CountAsync(workspace.Owner!.Value));
    }

    [Fact]
    public async Task RunAsync_BackgroundProcessesLeftBehind_DieWithTheExecution()
    {
        var workspace = Jobs.NewWorkspace();

        var result = await RunAsync("#!/bin/sh\n(sleep 1000 &) ; nohup sleep 1000 >/dev/null 2>&1 &\necho started\n", workspace: workspace);

        Assert.True(result.Ok, result.Message);
        Assert.Equal(0, await UserProcesses.CountAsync(workspace.Owner!.Value));
    }

    [Theory]
    [InlineData("#!/usr/bin/perl\nfork while 1;\n")]
    [InlineData("#!/bin/sh\nwhile :; do sleep 1000 & done\n")]
    public async Task RunAsync_ForkBomb_EndsWithProcessLimitAndLeavesNothingRunning(string bomb)
    {
        var workspace = Jobs.NewWorkspace();

        var result = await RunAsync(bomb, workspace: workspace, limits: Jobs.Limits with { Processes = 16 });

        Assert.Equal(ReasonCodes.ProcessLimit, result.Error);
        Assert.Equal(0, await UserProcesses.CountAsync(workspace.Owner!.Value));
        await AssertHealthyAsync(workspace);
    }

    [Fact]
    public async Task RunAsync_HugeFile_EndsWithQuotaExceeded()
    {
        var result = await RunAsync("#!/bin/sh\nhead -c 10000000 /dev/zero > /workspace/big\n", limits: Jobs.Limits with { FileBytes = 1024 * 1024 });

        Assert.Equal(ReasonCodes.QuotaExceeded, result.Error);
    }

    [Fact]
    public async Task RunAsync_FillingTheWorkspace_IsStoppedWithQuotaExceeded()
    {
        var workspace = Jobs.NewWorkspace(bytes: 4 * 1024 * 1024);

        // Files within the file size limit, without end: only the workspace's own limit stops it.
        var result = await RunAsync("#!/bin/sh\ni=0\nwhile :; do head -c 1000000 /dev/zero > /workspace/f$i; i=$((i+1)); done\n", workspace: workspace);

        Assert.Equal(ReasonCodes.QuotaExceeded, result.Error);
        Assert.Contains("4194304 bytes", result.Message, StringComparison.Ordinal);
        Assert.True(result.Usage.WallMillis < Jobs.Limits.WallTime.TotalMilliseconds, $"stopped after {result.Usage.WallMillis} ms");
        Assert.Equal(ReasonCodes.QuotaExceeded, workspace.Write("/workspace/more", [1])?.Code);
        await AssertHealthyAsync(workspace);
    }

    [Fact]
    public async Task RunAsync_ManySmallFiles_AreStoppedWithQuotaExceeded()
    {
        var workspace = Jobs.NewWorkspace(bytes: 1024 * 1024, entries: 200);

        var result = await RunAsync("#!/bin/sh\ni=0\nwhile :; do : > /workspace/f$i; i=$((i+1)); done\n", workspace: workspace);

        Assert.Equal(ReasonCodes.QuotaExceeded, result.Error);
        Assert.Contains("200 files and directories", result.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RunAsync_FilesUnderANameThatIsNotUtf8_AreMeasuredToo()
    {
        var workspace = Jobs.NewWorkspace(bytes: 2 * 1024 * 1024);

        var result = await RunAsync("#!/usr/bin/perl\nmkdir \"/workspace/\\xff\";\nfor my $i (0..1000) { open(my $f, '>', \"/workspace/\\xff/f$i\") or die; print $f 'x' x 900000; close $f; }\n", workspace: workspace);

        Assert.Equal(ReasonCodes.QuotaExceeded, result.Error);
    }

    [Fact]
    public async Task RunAsync_NestingDeeperThanMeasured_IsStoppedWithQuotaExceeded()
    {
        var workspace = Jobs.NewWorkspace(bytes: 1024 * 1024);

        var result = await RunAsync("#!/bin/sh\ncd /workspace\nwhile :; do mkdir d && cd d; done\n", workspace: workspace);

        Assert.Equal(ReasonCodes.QuotaExceeded, result.Error);
        Assert.Contains("cannot be measured", result.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RunAsync_WorkspaceOverItsLimitsBefore_CanBeCleanedUpButNotGrown()
    {
        var workspace = Jobs.NewWorkspace(bytes: 1000);
        await File.WriteAllBytesAsync(Path.Combine(workspace.Directory, "old"), new byte[5000]);
        File.SetUnixFileMode(Path.Combine(workspace.Directory, "old"), UnixFileMode.UserRead | UnixFileMode.UserWrite);

        var grown = await RunAsync("#!/bin/sh\nhead -c 100 /dev/zero > /workspace/new\n", workspace: workspace);
        var cleaned = await RunAsync("#!/bin/sh\nrm -f /workspace/old /workspace/new && echo clean\n", workspace: workspace);

        Assert.Equal(ReasonCodes.QuotaExceeded, grown.Error);
        Assert.True(cleaned.Ok, cleaned.Message);
        Assert.Equal(new WorkspaceUsage(0, 0), workspace.Measure());
        Assert.Null(workspace.Write("/workspace/again", new byte[1000]));
    }

    [Fact]
    public async Task RunAsync_ReadingSecretsOfTheHost_FindsNothing()
    {
        var result = await RunAsync("""
            #!/bin/sh
            cat /etc/shadow /etc/passwd /root/.bashrc /proc/1/environ 2>&1
            ls / /etc /run 2>&1
            echo "env: $(env | sort | tr '\n' ' ')"
            """);

        Assert.True(result.Ok, result.Message);
        Assert.DoesNotContain("root:", result.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("AGENTSEC_STORAGE", result.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("work", result.Output.Split('\n').Where(l => !l.StartsWith("env:", StringComparison.Ordinal)), StringComparer.Ordinal);
        Assert.Contains("No such file", result.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RunAsync_AnotherAgentsWorkspace_IsNeitherVisibleNorReachable()
    {
        // The search skips the read-only system binds (/usr, /proc), where no workspace lives: walking the host's /usr
        // takes longer than the wall-clock limit on a loaded machine.
        var victim = Jobs.NewWorkspace();
        await File.WriteAllTextAsync(Path.Combine(victim.Directory, "secret.txt"), "victim's secret");

        var result = await RunAsync($"""
            #!/bin/sh
            cat {victim.Directory}/secret.txt 2>&1
            cat /workspace/../{Path.GetFileName(victim.Directory)}/secret.txt 2>&1
            echo "listed: $(ls /workspace/.. 2>&1 | tr '\n' ' ')"
            echo "found: $(find / \( -path /usr -o -path /proc \) -prune -o -name secret.txt -print 2>/dev/null)"
            """);

        Assert.True(result.Ok, result.Message);
        Assert.DoesNotContain("victim's secret", result.Output, StringComparison.Ordinal);
        Assert.DoesNotContain(Path.GetFileName(victim.Directory), result.Output.Split('\n').Single(l => l.StartsWith("listed:", StringComparison.Ordinal)), StringComparison.Ordinal);
        Assert.EndsWith("found: \n", result.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RunAsync_WritingOutsideTheWorkspace_ChangesNothingOnTheHost()
    {
        var workspace = Jobs.NewWorkspace();
        var marker = $"agentsec-escape-{Guid.NewGuid():N}";

        var result = await RunAsync($"""
            #!/bin/sh
            for target in /usr/{marker} /etc/{marker} /{marker} /run/agentsec/{marker} /dev/{marker} /tmp/{marker}; do
              (echo x > $target) 2>/dev/null && echo "wrote $target"
            done
            echo inside > /workspace/{marker}
            head -c 2000000 /dev/zero > /dev/shm/big 2>/dev/null || echo "/dev/shm is small"
            """, workspace: workspace);

        Assert.True(result.Ok, result.Message);
        Assert.Equal($"wrote /tmp/{marker}\n/dev/shm is small\n", result.Output); // its /tmp is its own, and gone afterwards; the rest is read-only
        Assert.False(File.Exists($"/usr/{marker}") || File.Exists($"/etc/{marker}") || File.Exists($"/{marker}") || File.Exists($"/tmp/{marker}"));
        Assert.Equal("inside\n", await File.ReadAllTextAsync(Path.Combine(workspace.Directory, marker)));
    }

    [Fact]
    public async Task RunAsync_NetworkWithoutTheGrant_ReachesNothingNotEvenLoopback()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;

        var result = await RunAsync($$"""
            #!/usr/bin/perl
            use IO::Socket::INET;
            for my $to ("127.0.0.1:{{port}}", "1.1.1.1:53") {
              my $s = IO::Socket::INET->new(PeerAddr => $to, Timeout => 2);
              print $s ? "connected $to\n" : "refused $to\n";
            }
            """);

        Assert.True(result.Ok, result.Message);
        Assert.DoesNotContain("connected", result.Output, StringComparison.Ordinal);
        Assert.False(listener.Pending());
    }

    [Fact]
    public async Task RunAsync_SignalsToTheHost_ReachNoOne()
    {
        var result = await RunAsync($"#!/bin/sh\nkill -9 {Environment.ProcessId} 2>&1; kill -9 1 2>&1; echo alive\n");

        Assert.True(result.Ok, result.Message);
        Assert.EndsWith("alive\n", result.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RunAsync_ManyExecutionsOfOneAgent_LeaveNothingBehindToCountAgainstItsLimit()
    {
        var workspace = Jobs.NewWorkspace();

        for (var i = 0; i < 12; i++)
        {
            var result = await RunAsync("#!/bin/sh\nsleep 1000 &\necho $$\n", workspace: workspace, limits: Jobs.Limits with { Processes = 4 });
            Assert.True(result.Ok, $"execution {i}: {result.Error} {result.Message}");
        }

        Assert.Equal(0, await UserProcesses.CountAsync(workspace.Owner!.Value)); // zombies included
    }

    [Fact]
    public async Task RunAsync_ReadOnlyWorkspace_CanBeReadButNotWritten()
    {
        var workspace = Jobs.NewWorkspace();
        await File.WriteAllTextAsync(Path.Combine(workspace.Directory, "given.txt"), "given");
        File.SetUnixFileMode(Path.Combine(workspace.Directory, "given.txt"), UnixFileMode.UserRead | UnixFileMode.GroupRead | UnixFileMode.OtherRead);

        var result = await Runtime.RunAsync(Jobs.For(SandboxRuntimes.Process, "#!/bin/sh\ncat /workspace/given.txt; (echo x > /workspace/new.txt) 2>/dev/null && echo wrote; echo\n", workspace: workspace) with { WorkspaceAccess = WorkspaceAccess.ReadOnly }, new FakeHostApi(), default);

        Assert.True(result.Ok, result.Message);
        Assert.Equal("given\n", result.Output);
        Assert.False(File.Exists(Path.Combine(workspace.Directory, "new.txt")));
    }

    [Fact]
    public async Task RunAsync_NoWorkspaceAccess_SeesAnEmptyReadOnlyWorkspace()
    {
        var workspace = Jobs.NewWorkspace();
        await File.WriteAllTextAsync(Path.Combine(workspace.Directory, "secret.txt"), "not for it");

        var result = await Runtime.RunAsync(Jobs.For(SandboxRuntimes.Process, "#!/bin/sh\nls -A /workspace; (echo x > /workspace/new.txt) 2>/dev/null && echo wrote; echo end\n", workspace: workspace) with { WorkspaceAccess = WorkspaceAccess.None }, new FakeHostApi(), default);

        Assert.True(result.Ok, result.Message);
        Assert.Equal("end\n", result.Output);
    }

    [Fact]
    public async Task RunAsync_CpuSpreadOverChildren_EndsWithFuelExhaustedForTheWholeExecution()
    {
        // Ended by the CPU of all four children together (fuel_exhausted), long before the wall-clock limit (timeout).
        var result = await RunAsync("#!/bin/sh\nfor i in 1 2 3 4; do (while :; do :; done) & done\nwait\n", limits: Jobs.Limits with { CpuTime = TimeSpan.FromSeconds(1), WallTime = TimeSpan.FromSeconds(20) });

        Assert.Equal(ReasonCodes.FuelExhausted, result.Error);
        Assert.InRange(result.Usage.CpuMillis, 900, 2_500);
    }

    [Fact]
    public async Task RunAsync_SystemCallsOfTheFilter_FailWithoutEndingTheProgram()
    {
        var memfd = System.Runtime.InteropServices.RuntimeInformation.ProcessArchitecture == System.Runtime.InteropServices.Architecture.Arm64 ? 279 : 319;

        var result = await RunAsync($$"""
            #!/bin/sh
            perl -e 'my $name = "x"; my $r = syscall({{memfd}}, $name, 0); print $r < 0 ? "memfd_create: $!\n" : "memfd_create: allowed\n"'
            perl -e 'print defined(shmget(0, 1 << 20, 01600)) ? "shmget: allowed\n" : "shmget: $!\n"'
            unshare -r true 2>/dev/null && echo "unshare: allowed" || echo "unshare: refused"
            echo "descriptors: $(ls /proc/self/fd | tr '\n' ' ')"
            """);

        Assert.True(result.Ok, result.Message);
        Assert.Equal("memfd_create: Operation not permitted\nshmget: Operation not permitted\nunshare: refused\ndescriptors: 0 1 2 3 \n", result.Output);
    }

    [Fact]
    public async Task RunAsync_OutOfMemoryFollowedByMoreErrorsThanTheTailKeeps_EndsWithMemoryLimit()
    {
        // As V8 dies at its heap limit: the reason first, then a native stack longer than the tail kept for the message.
        var result = await RunAsync("#!/bin/sh\necho 'FATAL ERROR: Reached heap limit Allocation failed - JavaScript heap out of memory' >&2\n" +
            "i=0; while [ $i -lt 400 ]; do echo \" $i: 0xb7a940 node::Abort() [node]\" >&2; i=$((i+1)); done\n" +
            "sh -c 'kill -TRAP $$'; exit $?\n"); // a child dies by the signal: the sandbox's init would ignore it

        Assert.Equal(ReasonCodes.MemoryLimit, result.Error);
    }

    [Fact]
    public async Task RunAsync_ExitsByItselfLongAfterSayingOutOfMemory_EndsWithExecutionFailed()
    {
        // Text far back in the stream of a program that exits by itself can be anyone's (an echoed page, a caught error):
        // a limit is audited as a violation, so only its last words say it.
        var result = await RunAsync("#!/bin/sh\necho 'MemoryError' >&2\n" +
            "i=0; while [ $i -lt 400 ]; do echo \"line $i of an ordinary log\" >&2; i=$((i+1)); done\nexit 1\n");

        Assert.Equal(ReasonCodes.ExecutionFailed, result.Error);
    }

    [Fact]
    public async Task RunAsync_FailingProgram_EndsWithExecutionFailed()
    {
        var result = await RunAsync("#!/bin/sh\necho 'something broke' >&2\nexit 3\n");

        Assert.Equal(ReasonCodes.ExecutionFailed, result.Error);
        Assert.Contains("exited with code 3: something broke", result.Message, StringComparison.Ordinal);
    }
}

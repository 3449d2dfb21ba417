using System.Text;
using AgentSecurity.Grants;
using AgentSecurity.Sandbox.Tests.Infrastructure;
using AgentSecurity.Sandbox.Workspaces;

namespace AgentSecurity.Sandbox.Tests.Workspaces;

/// <summary>The host side of workspace files, which native agent code can tamper with meanwhile. The tests run as root, as the silo does.</summary>
public sealed class AgentWorkspaceTests
{
    [Fact]
    public void For_SameAgentTwice_KeepsItsOwnerAndOtherAgentsGetOthers()
    {
        var a = AgentWorkspace.For(Jobs.Workspaces, "t", "same-agent");
        var again = AgentWorkspace.For(Jobs.Workspaces, "t", "same-agent");
        var b = AgentWorkspace.For(Jobs.Workspaces, "t", "other-agent");

        Assert.NotNull(a.Owner);
        Assert.Equal(a.Owner, again.Owner);
        Assert.NotEqual(a.Owner, b.Owner);
        Assert.InRange(a.Owner!.Value, Jobs.Workspaces.FirstUserId, Jobs.Workspaces.FirstUserId + Jobs.Workspaces.UserIdCount - 1);
    }

    [Fact]
    public void For_WorkspaceHandedToAnotherAgentsUser_IsRefused()
    {
        var victim = AgentWorkspace.For(Jobs.Workspaces, "t", $"v{Guid.NewGuid():N}");
        var intruder = AgentWorkspace.For(Jobs.Workspaces, "t", $"i{Guid.NewGuid():N}");
        Assert.Equal(0, Lchown(intruder.Directory, victim.Owner!.Value, victim.Owner!.Value));

        var name = Path.GetFileName(intruder.Directory);

        Assert.Throws<IOException>(() => AgentWorkspace.For(Jobs.Workspaces, "t", name));
    }

    [Fact]
    public void For_UnderADirectoryOthersCanChange_IsRefused()
    {
        var root = Directory.CreateTempSubdirectory("agentsec-untrusted-");
        root.UnixFileMode = (UnixFileMode)Convert.ToInt32("777", 8);
        var options = Jobs.Workspaces with { Root = Path.Combine(root.FullName, "workspaces") };

        var refused = Assert.Throws<IOException>(() => AgentWorkspace.For(options, "t", "a"));

        Assert.Contains("only root can change", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Write_PastTheWorkspaceBytes_IsQuotaExceededAndCreatesNothing()
    {
        var workspace = Jobs.NewWorkspace(bytes: 1000);
        Assert.Null(workspace.Write("/workspace/a", new byte[600]));

        var refused = workspace.Write("/workspace/dir/b", new byte[401]);

        Assert.Equal(ReasonCodes.QuotaExceeded, refused?.Code);
        Assert.Contains("more than its 1000 bytes", refused?.Message, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Path.Combine(workspace.Directory, "dir")));
        Assert.Null(workspace.Write("/workspace/b", new byte[400]));
        Assert.Equal(new WorkspaceUsage(1000, 2), workspace.Measure());
    }

    [Fact]
    public void Write_ReplacingAFile_CountsOnlyTheDifference()
    {
        var workspace = Jobs.NewWorkspace(bytes: 1000);
        Assert.Null(workspace.Write("/workspace/a", new byte[900]));

        Assert.Null(workspace.Write("/workspace/a", new byte[1000]));
        Assert.Equal(ReasonCodes.QuotaExceeded, workspace.Write("/workspace/a", new byte[1001])?.Code);
        Assert.Equal(1000, new FileInfo(Path.Combine(workspace.Directory, "a")).Length);
    }

    [Fact]
    public void Write_PastTheWorkspaceEntries_IsQuotaExceededButExistingFilesCanBeReplaced()
    {
        var workspace = Jobs.NewWorkspace(bytes: 1000, entries: 3);
        foreach (var name in new[] { "a", "b", "c" })
        {
            Assert.Null(workspace.Write($"/workspace/{name}", [1]));
        }

        Assert.Equal(ReasonCodes.QuotaExceeded, workspace.Write("/workspace/d", [1])?.Code);
        Assert.False(File.Exists(Path.Combine(workspace.Directory, "d")));
        Assert.Null(workspace.Write("/workspace/a", [1, 2]));
    }

    [Fact]
    public void Write_SpaceFreedByAnotherWriter_IsSeenAtTheNextMeasurement()
    {
        var workspace = Jobs.NewWorkspace(bytes: 1000);
        Assert.Null(workspace.Write("/workspace/a", new byte[1000]));
        File.Delete(Path.Combine(workspace.Directory, "a")); // a native execution of the agent cleans up meanwhile

        var attempts = 1;
        while (workspace.Write("/workspace/b", new byte[500])?.Code == ReasonCodes.QuotaExceeded && attempts < 100)
        {
            attempts++;
        }

        Assert.InRange(attempts, 2, 64); // counted as full until measured again, and measured again within 64 writes
    }

    [Fact]
    public void Measure_LinksPlantedInTheWorkspace_AreCountedNotFollowed()
    {
        var workspace = Jobs.NewWorkspace(bytes: 1000, entries: 10);
        File.CreateSymbolicLink(Path.Combine(workspace.Directory, "usr"), "/usr");
        File.CreateSymbolicLink(Path.Combine(workspace.Directory, "shell"), "/bin/sh");

        var usage = workspace.Measure();

        Assert.Equal(new WorkspaceUsage("/usr".Length + "/bin/sh".Length, 2), usage); // each link its own size
        Assert.Null(workspace.Exceeded(usage!.Value));
    }

    [Fact]
    public void Measure_ManyEntries_StopsOnePastTheLimitAndIsExceeded()
    {
        var workspace = Jobs.NewWorkspace(bytes: 1_000_000, entries: 5);
        for (var i = 0; i < 50; i++)
        {
            File.WriteAllBytes(Path.Combine(workspace.Directory, $"f{i}"), [1]);
        }

        var usage = workspace.Measure()!.Value;

        Assert.Equal(6, usage.Entries);
        Assert.Contains("5 files and directories", workspace.Exceeded(usage), StringComparison.Ordinal);
    }

    [Fact]
    public void Measure_NestedDeeperThanItMeasures_IsNullAndHostWritesAreRefused()
    {
        var workspace = Jobs.NewWorkspace(bytes: 1_000_000);
        Directory.CreateDirectory(Path.Combine([workspace.Directory, .. Enumerable.Repeat("d", 65)]));

        Assert.Null(workspace.Measure());
        var refused = workspace.Write("/workspace/a", [1]);
        Assert.Equal(ReasonCodes.QuotaExceeded, refused?.Code);
        Assert.Contains("cannot be measured", refused?.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Measure_NestedAsDeepAsItMeasures_CountsEveryLevel()
    {
        var workspace = Jobs.NewWorkspace(bytes: 1_000_000);
        var deepest = Directory.CreateDirectory(Path.Combine([workspace.Directory, .. Enumerable.Repeat("d", 64)]));
        File.WriteAllBytes(Path.Combine(deepest.FullName, "f"), new byte[100]);

        Assert.Equal(new WorkspaceUsage(100, 65), workspace.Measure());
    }

    [Fact]
    public void Write_NewFileInNewDirectories_CountsEveryDirectoryItWouldCreate()
    {
        var workspace = Jobs.NewWorkspace(bytes: 1000, entries: 3);

        Assert.Equal(ReasonCodes.QuotaExceeded, workspace.Write("/workspace/a/b/c/d", [1])?.Code);
        Assert.Null(workspace.Write("/workspace/a/b/c", [1]));
    }

    [Fact]
    public void Read_ADirectory_IsNotFound()
    {
        var workspace = Jobs.NewWorkspace();
        Directory.CreateDirectory(Path.Combine(workspace.Directory, "folder"));

        var read = workspace.Read("/workspace/folder", 1024);

        Assert.Equal(WorkspaceErrors.NotFound, read.Failure?.Code);
    }

    [Fact]
    public void Read_LinkPlantedInTheWorkspace_IsASandboxViolation()
    {
        var workspace = Jobs.NewWorkspace();
        File.CreateSymbolicLink(Path.Combine(workspace.Directory, "shadow"), "/etc/shadow");
        Directory.CreateSymbolicLink(Path.Combine(workspace.Directory, "etc"), "/etc");

        Assert.Equal(ReasonCodes.SandboxViolation, workspace.Read("/workspace/shadow", 1024).Failure?.Code);
        Assert.Equal(ReasonCodes.SandboxViolation, workspace.Read("/workspace/etc/shadow", 1024).Failure?.Code);
        Assert.Equal(ReasonCodes.SandboxViolation, workspace.Write("/workspace/etc/agentsec-test", Encoding.UTF8.GetBytes("x"))?.Code);
        Assert.False(File.Exists("/etc/agentsec-test"));
    }

    [Fact]
    public void Read_FifoPlantedInTheWorkspace_IsRefusedWithoutBlocking()
    {
        var workspace = Jobs.NewWorkspace();
        Assert.Equal(0, MakeFifo(Path.Combine(workspace.Directory, "pipe"), Convert.ToInt32("666", 8)));

        var read = workspace.Read("/workspace/pipe", 1024);

        Assert.Equal(ReasonCodes.SandboxViolation, read.Failure?.Code);
    }

    [Fact]
    public void Write_NewFilesAndDirectories_BelongToTheWorkspaceOwner()
    {
        var workspace = Jobs.NewWorkspace();

        Assert.Null(workspace.Write("/workspace/deep/er/file.txt", Encoding.UTF8.GetBytes("content")));

        foreach (var path in new[] { "deep", "deep/er", "deep/er/file.txt" })
        {
            Assert.Equal(workspace.Owner, OwnerOf(Path.Combine(workspace.Directory, path)));
        }

        Assert.Equal("content", workspace.Read("/workspace/deep/er/file.txt", 1024).Value);
    }

    [Theory]
    [InlineData("/etc/passwd")]
    [InlineData("/workspace/")]
    [InlineData("/workspace")]
    [InlineData("/workspace/../x")]
    [InlineData("/workspace//x")]
    [InlineData("workspace/x")]
    public void Read_PathOutsideTheWorkspaceOrNotAFilePath_IsASandboxViolation(string path) =>
        Assert.Equal(ReasonCodes.SandboxViolation, Jobs.NewWorkspace().Read(path, 1024).Failure?.Code);

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "lchown", SetLastError = true)]
    private static extern int Lchown(string path, uint owner, uint group);

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "mkfifo", SetLastError = true)]
    private static extern int MakeFifo(string path, int mode);

    private static uint OwnerOf(string path) => uint.Parse(RunStat(path), System.Globalization.CultureInfo.InvariantCulture);

    private static string RunStat(string path)
    {
        using var process = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo("stat", ["-c", "%u", path]) { RedirectStandardOutput = true })!;
        var output = process.StandardOutput.ReadToEnd().Trim();
        process.WaitForExit();
        return output;
    }
}

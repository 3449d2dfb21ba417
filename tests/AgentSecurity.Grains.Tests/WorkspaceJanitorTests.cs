using System.Diagnostics;
using AgentSecurity.Grains.Execution;
using AgentSecurity.Sandbox.Workspaces;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace AgentSecurity.Grains.Tests;

/// <summary>
/// Idle workspaces leave the machine, with their user ids; used ones stay, whichever silo of the machine uses them. The
/// tests run as root, as the silo does.
/// </summary>
public sealed class WorkspaceJanitorTests : IDisposable
{
    private static readonly TimeSpan Retention = TimeSpan.FromDays(1);

    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 12, 1, 0, 0, 0, TimeSpan.Zero));
    private readonly DirectoryInfo _root = Directory.CreateTempSubdirectory("agentsec-janitor-");
    private readonly ExecutionServices _silo;
    private readonly ExecutionServices _otherSilo;

    public WorkspaceJanitorTests()
    {
        _silo = Silo();
        _otherSilo = Silo();
    }

    private ExecutionServices Silo() => new([], Options.Create(new SandboxOptions
    {
        WorkspaceRoot = _root.FullName,
        FirstUserId = 1_800_000_000 + ((uint)Environment.ProcessId % 1000 * 1000),
        UserIdCount = 1000,
        WorkspaceRetention = Retention,
    }), _time, NullLogger<ExecutionServices>.Instance, new ServiceCollection().BuildServiceProvider());

    public void Dispose()
    {
        _silo.Dispose();
        _otherSilo.Dispose();
        _root.Delete(recursive: true);
    }

    /// <summary>An execution's start: the workspace held, made, and written to.</summary>
    private (AgentWorkspace Workspace, WorkspaceHold Hold) Start(string agent, ExecutionServices? silo = null)
    {
        var hold = (silo ?? _silo).HoldWorkspace("t", agent);
        Assert.NotNull(hold);
        var workspace = AgentWorkspace.For(_silo.Workspaces, "t", agent);
        Assert.Null(workspace.Write("/workspace/notes/a.txt", [1, 2, 3]));
        return (workspace, hold);
    }

    private string ClaimOf(AgentWorkspace workspace) => Path.Combine(_root.FullName, ".uids", workspace.Owner!.Value.ToString(System.Globalization.CultureInfo.InvariantCulture));

    [Fact]
    public void RemoveIdleWorkspaces_IdleForTheRetention_RemovesTheWorkspaceAndGivesBackItsUserId()
    {
        var (workspace, hold) = Start("a");
        _time.Advance(TimeSpan.FromMinutes(5));
        hold.Dispose(); // the execution ends: idle from now
        Assert.True(File.Exists(ClaimOf(workspace)));

        _time.Advance(Retention - TimeSpan.FromSeconds(1));
        Assert.Equal(0, _silo.RemoveIdleWorkspaces());
        Assert.True(Directory.Exists(workspace.Directory));

        _time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(1, _silo.RemoveIdleWorkspaces());
        Assert.False(Directory.Exists(workspace.Directory));
        Assert.False(File.Exists(ClaimOf(workspace)));
        Assert.Empty(WorkspaceHold.Registered(_silo.Workspaces));
    }

    [Fact]
    public void RemoveIdleWorkspaces_InUseOnAnotherSiloOfTheMachine_KeepsIt()
    {
        var (workspace, hold) = Start("a", _otherSilo);
        _time.Advance(Retention * 3); // a long execution, or a stuck one: still held

        Assert.Equal(0, _silo.RemoveIdleWorkspaces());
        hold.Dispose();
        _time.Advance(Retention / 2);
        Assert.Equal(0, _silo.RemoveIdleWorkspaces());
        Assert.True(File.Exists(Path.Combine(workspace.Directory, "notes", "a.txt")));

        _time.Advance(Retention / 2);
        Assert.Equal(1, _silo.RemoveIdleWorkspaces());
    }

    [Fact]
    public void HoldWorkspace_WhileItIsBeingRemoved_IsRefusedAndAfterwardsGetsAFreshOne()
    {
        var (old, hold) = Start("a");
        Assert.Null(old.Write("/workspace/stale.txt", [1]));
        hold.Dispose();
        var entry = Assert.Single(WorkspaceHold.Registered(_silo.Workspaces)).Entry;

        using (var removing = WorkspaceHold.ForRemoval(entry))
        {
            Assert.NotNull(removing);
            Assert.Null(_otherSilo.HoldWorkspace("t", "a"));
        }

        _time.Advance(Retention);
        Assert.Equal(1, _silo.RemoveIdleWorkspaces());
        var (fresh, freshHold) = Start("a", _otherSilo);
        freshHold.Dispose();

        Assert.Equal(old.Directory, fresh.Directory);
        Assert.False(File.Exists(Path.Combine(fresh.Directory, "stale.txt")));
    }

    [Fact]
    public void RemoveIdleWorkspaces_DirectoriesNoSiloRegistered_AreLeftAlone()
    {
        var stranger = Directory.CreateDirectory(Path.Combine(_root.FullName, "t", "not-registered"));
        File.WriteAllText(Path.Combine(stranger.FullName, "keep.txt"), "someone's");
        Directory.CreateDirectory(Path.Combine(_root.FullName, ".exec", "x"));
        _time.Advance(Retention * 10);

        Assert.Equal(0, _silo.RemoveIdleWorkspaces());
        Assert.True(File.Exists(Path.Combine(stranger.FullName, "keep.txt")));
        Assert.True(Directory.Exists(Path.Combine(_root.FullName, ".exec", "x")));
    }

    [Fact]
    public void RemoveIdleWorkspaces_RegisteredButNotOwnedByTheAgentsUser_IsLeftAlone()
    {
        var hold = _silo.HoldWorkspace("t", "b");
        hold!.Dispose();
        var notTheAgents = Directory.CreateDirectory(Path.Combine(_root.FullName, "t", "b")); // root's, not the agent's user
        _time.Advance(Retention);

        Assert.Equal(0, _silo.RemoveIdleWorkspaces());
        Assert.True(notTheAgents.Exists);
    }

    [Fact]
    public void RemoveIdleWorkspaces_LinksNamesThatAreNotUtf8AndDeepNesting_AreAllRemovedAndNothingOutside()
    {
        var outside = Directory.CreateTempSubdirectory("agentsec-outside-");
        File.WriteAllText(Path.Combine(outside.FullName, "keep.txt"), "host file");
        var (workspace, hold) = Start("a");
        File.CreateSymbolicLink(Path.Combine(workspace.Directory, "notes", "escape"), outside.FullName);
        File.CreateSymbolicLink(Path.Combine(workspace.Directory, "file-link"), Path.Combine(outside.FullName, "keep.txt"));
        Directory.CreateDirectory(Path.Combine([workspace.Directory, .. Enumerable.Repeat("deep", 200)]));
        using (var perl = Process.Start("perl", ["-e", $"mkdir \"{workspace.Directory}/\\xff\" or die; open(my $f, '>', \"{workspace.Directory}/\\xff/\\xfe\") or die;"]))
        {
            perl!.WaitForExit();
            Assert.Equal(0, perl.ExitCode);
        }

        hold.Dispose();
        _time.Advance(Retention);

        Assert.Equal(1, _silo.RemoveIdleWorkspaces());

        Assert.False(Directory.Exists(workspace.Directory));
        Assert.Equal("host file", File.ReadAllText(Path.Combine(outside.FullName, "keep.txt")));
        outside.Delete(recursive: true);
    }
}

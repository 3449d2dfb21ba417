using AgentSecurity.Grains.Execution;
using AgentSecurity.Sandbox.Workspaces;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace AgentSecurity.Grains.Tests;

/// <summary>Idle workspaces leave the silo, with their user ids; used ones stay. The tests run as root, as the silo does.</summary>
public sealed class WorkspaceJanitorTests : IDisposable
{
    private static readonly TimeSpan Retention = TimeSpan.FromDays(1);

    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 12, 1, 0, 0, 0, TimeSpan.Zero));
    private readonly DirectoryInfo _root = Directory.CreateTempSubdirectory("agentsec-janitor-");
    private readonly ExecutionServices _services;

    public WorkspaceJanitorTests()
    {
        var options = new SandboxOptions
        {
            WorkspaceRoot = _root.FullName,
            FirstUserId = 1_800_000_000 + ((uint)Environment.ProcessId % 1000 * 1000),
            UserIdCount = 1000,
            WorkspaceRetention = Retention,
        };
        _services = new ExecutionServices([], Options.Create(options), _time, NullLogger<ExecutionServices>.Instance, new ServiceCollection().BuildServiceProvider());
    }

    public void Dispose()
    {
        _services.Dispose();
        _root.Delete(recursive: true);
    }

    private AgentWorkspace Run(string agent)
    {
        Assert.Null(_services.TryEnter("t", agent));
        var workspace = AgentWorkspace.For(_services.Workspaces, "t", agent);
        Assert.Equal((null, null), workspace.Write("/workspace/notes/a.txt", [1, 2, 3]));
        return workspace;
    }

    private string ClaimOf(AgentWorkspace workspace) => Path.Combine(_root.FullName, ".uids", workspace.Owner!.Value.ToString(System.Globalization.CultureInfo.InvariantCulture));

    [Fact]
    public void RemoveIdleWorkspaces_IdleForTheRetention_RemovesTheWorkspaceAndGivesBackItsUserId()
    {
        var workspace = Run("a");
        _services.Exit("t", "a");
        Assert.True(File.Exists(ClaimOf(workspace)));

        _time.Advance(Retention - TimeSpan.FromSeconds(1));
        Assert.Equal(0, _services.RemoveIdleWorkspaces());
        Assert.True(Directory.Exists(workspace.Directory));

        _time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(1, _services.RemoveIdleWorkspaces());
        Assert.False(Directory.Exists(workspace.Directory));
        Assert.False(File.Exists(ClaimOf(workspace)));
    }

    [Fact]
    public void RemoveIdleWorkspaces_InUse_KeepsItUntilIdleForTheRetentionAfterwards()
    {
        var workspace = Run("a");
        _time.Advance(Retention * 3);

        Assert.Equal(0, _services.RemoveIdleWorkspaces());
        _services.Exit("t", "a");
        _time.Advance(Retention / 2);
        Assert.Equal(0, _services.RemoveIdleWorkspaces());
        Assert.True(File.Exists(Path.Combine(workspace.Directory, "notes", "a.txt")));

        _time.Advance(Retention / 2);
        Assert.Equal(1, _services.RemoveIdleWorkspaces());
    }

    [Fact]
    public void RemoveIdleWorkspaces_FoundOnDiskAfterARestart_CountsIdleFromFirstSight()
    {
        var workspace = AgentWorkspace.For(_services.Workspaces, "t", "from-before");

        Assert.Equal(0, _services.RemoveIdleWorkspaces());
        _time.Advance(Retention);
        Assert.Equal(1, _services.RemoveIdleWorkspaces());
        Assert.False(Directory.Exists(workspace.Directory));
    }

    [Fact]
    public void RemoveIdleWorkspaces_LinksPlantedOutOfTheWorkspace_AreRemovedAsLinks()
    {
        var outside = Directory.CreateTempSubdirectory("agentsec-outside-");
        File.WriteAllText(Path.Combine(outside.FullName, "keep.txt"), "host file");
        var workspace = Run("a");
        File.CreateSymbolicLink(Path.Combine(workspace.Directory, "notes", "escape"), outside.FullName);
        File.CreateSymbolicLink(Path.Combine(workspace.Directory, "file-link"), Path.Combine(outside.FullName, "keep.txt"));
        _services.Exit("t", "a");
        _time.Advance(Retention);

        Assert.Equal(1, _services.RemoveIdleWorkspaces());

        Assert.False(Directory.Exists(workspace.Directory));
        Assert.Equal("host file", File.ReadAllText(Path.Combine(outside.FullName, "keep.txt")));
        outside.Delete(recursive: true);
    }

    [Fact]
    public void RemoveIdleWorkspaces_TheSilosOwnDirectories_AreLeftAlone()
    {
        var scratch = Directory.CreateDirectory(Path.Combine(_root.FullName, ".exec", "x"));
        _ = Run("a");
        _services.Exit("t", "a");
        _time.Advance(Retention);

        Assert.Equal(1, _services.RemoveIdleWorkspaces());
        Assert.True(scratch.Exists);
        Assert.True(Directory.Exists(Path.Combine(_root.FullName, ".uids")));
    }

    [Fact]
    public void TryEnter_AfterTheWorkspaceWasRemoved_GetsAFreshOne()
    {
        var old = Run("a");
        Assert.Equal((null, null), old.Write("/workspace/stale.txt", [1]));
        _services.Exit("t", "a");
        _time.Advance(Retention);
        Assert.Equal(1, _services.RemoveIdleWorkspaces());

        var fresh = Run("a");

        Assert.Equal(old.Directory, fresh.Directory);
        Assert.NotNull(fresh.Owner);
        Assert.False(File.Exists(Path.Combine(fresh.Directory, "stale.txt")));
        _services.Exit("t", "a");
    }
}

using AgentSecurity.Grains.Quotas;

namespace AgentSecurity.Grains.Tests.Quotas;

/// <summary>Which agents a tenant tells that its limits changed: those that may still use limits they read.</summary>
public sealed class LimitReadersTests
{
    private static readonly DateTimeOffset T0 = new(2026, 12, 1, 0, 0, 0, TimeSpan.Zero);
    private static readonly TimeSpan Kept = TimeSpan.FromMinutes(1);

    [Fact]
    public void Recent_AgentsReadWithinTheTimeKept_AreTheOnesTold()
    {
        var readers = new LimitReaders(Kept);
        readers.Read("old", T0);
        readers.Read("again", T0);
        readers.Read("new", T0.AddSeconds(30));
        readers.Read("again", T0.AddSeconds(45));

        var told = readers.Recent(T0 + Kept);

        Assert.Equal(["again", "new"], told.Order(StringComparer.Ordinal));
        Assert.Equal(2, readers.Count);
    }

    [Fact]
    public void Read_ManyAgentsLongGone_AreForgottenAsNewOnesRead()
    {
        var readers = new LimitReaders(Kept);
        for (var i = 0; i < 5_000; i++)
        {
            readers.Read($"agent-{i}", T0);
        }

        for (var i = 0; i < 5_000; i++)
        {
            readers.Read($"later-{i}", T0 + Kept);
        }

        Assert.InRange(readers.Count, 5_000, 6_000); // swept when doubled: the agents gone since are not kept for good
    }
}

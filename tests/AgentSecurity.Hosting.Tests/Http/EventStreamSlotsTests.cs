using AgentSecurity.Hosting.Http;
using Microsoft.Extensions.Options;

namespace AgentSecurity.Hosting.Tests.Http;

public sealed class EventStreamSlotsTests
{
    private readonly EventStreamSlots _slots = new(Options.Create(new HttpApiOptions { MaxEventStreams = 4, MaxEventStreamsPerPrincipal = 2 }));

    [Fact]
    public void TryTake_OnePrincipalPastItsShare_IsRefusedWhileOthersStillGetSlots()
    {
        Assert.True(_slots.TryTake("did:key:zA", out _));
        Assert.True(_slots.TryTake("did:key:zA", out _));

        Assert.False(_slots.TryTake("did:key:zA", out var principalFull));
        Assert.True(principalFull);
        Assert.True(_slots.TryTake("did:key:zB", out _));
        Assert.Equal(3, _slots.Open);
    }

    [Fact]
    public void TryTake_SiloFull_IsRefusedForEveryone()
    {
        foreach (var principal in new[] { "a", "a", "b", "b" })
        {
            Assert.True(_slots.TryTake(principal, out _));
        }

        Assert.False(_slots.TryTake("c", out var principalFull));
        Assert.False(principalFull);
    }

    [Fact]
    public void Release_GivesTheSlotBackToItsPrincipal()
    {
        _slots.TryTake("a", out _);
        _slots.TryTake("a", out _);

        _slots.Release("a");

        Assert.True(_slots.TryTake("a", out _));
        Assert.False(_slots.TryTake("a", out _));
        Assert.Equal(2, _slots.Open);
    }
}

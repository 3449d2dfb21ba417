using AgentSecurity.Grains.Boundary;

namespace AgentSecurity.Grains.Tests.Boundary;

public sealed class InterleavingGuardTests
{
    private readonly InterleavingGuard _guard = new();

    [Fact]
    public void TryEnter_WhileAnotherCallRunsOnTheActivation_IsRefused_AndAllowedOnceItEnds()
    {
        var activation = new object();
        var first = _guard.TryEnter(activation);
        Assert.NotNull(first);

        Assert.Null(_guard.TryEnter(activation));

        InterleavingGuard.Exit(first);
        Assert.NotNull(_guard.TryEnter(activation));
    }

    [Fact]
    public void TryEnter_OnAnotherActivation_IsAllowed()
    {
        Assert.NotNull(_guard.TryEnter(new object()));
        Assert.NotNull(_guard.TryEnter(new object()));
    }
}

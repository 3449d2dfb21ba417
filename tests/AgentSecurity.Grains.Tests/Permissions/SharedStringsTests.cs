using AgentSecurity.Grains.Permissions;

namespace AgentSecurity.Grains.Tests.Permissions;

/// <summary>Agents holding equal signer DIDs hold one string between them; what is shared stays bounded.</summary>
public sealed class SharedStringsTests
{
    [Fact]
    public void For_EqualStrings_GivesOneInstanceWithTheSameValue()
    {
        var did = $"did:key:z6Mk{Guid.NewGuid():N}";
        var again = new string(did.AsSpan());

        var first = SharedStrings.Signers.For(did);
        var second = SharedStrings.Signers.For(again);

        Assert.Equal(did, second);
        Assert.Same(first, second);
    }

    [Fact]
    public void For_LongString_IsNotShared()
    {
        var text = new string('x', SharedStrings.MaxLength + 1) + Guid.NewGuid().ToString("N");
        var again = new string(text.AsSpan());

        Assert.Same(text, SharedStrings.Signers.For(text));
        Assert.Same(again, SharedStrings.Signers.For(again));
    }

    [Fact]
    public void For_PastCapacity_ReturnsTheStringItselfAndHoldsNoMore()
    {
        var strings = new SharedStrings(2);
        var first = strings.For("a");
        strings.For("b");

        var late = "c";
        var lateAgain = new string(late.AsSpan());

        Assert.Same(late, strings.For(late));
        Assert.Same(lateAgain, strings.For(lateAgain));
        Assert.Equal(2, strings.Count);
        Assert.Same(first, strings.For(new string("a".AsSpan()))); // what it holds is still shared

    }

    [Fact]
    public void Find_StringNotHeld_AddsNothingAndFindsTheSharedCopyOnceAdded()
    {
        var strings = new SharedStrings(4);
        var tenant = "tenant-" + Guid.NewGuid().ToString("N");
        var again = new string(tenant.AsSpan());

        Assert.Same(tenant, strings.Find(tenant));
        Assert.Equal(0, strings.Count);
        strings.For(tenant);
        Assert.Same(tenant, strings.Find(again));
    }
}

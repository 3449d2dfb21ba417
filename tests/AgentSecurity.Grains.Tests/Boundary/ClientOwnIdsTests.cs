using System.Reflection;
using System.Text;
using AgentSecurity.Grains.Boundary;

namespace AgentSecurity.Grains.Tests.Boundary;

/// <summary>What a client may name in its calls: itself and its own observers, with their own hashes.</summary>
public sealed class ClientOwnIdsTests
{
    private const string Key = "c0ffee00c0ffee00c0ffee00c0ffee00";

    private static readonly GrainId Client = GrainId.Create(GrainTypePrefix.ClientGrainType, Key);

    private static readonly GrainId Observer = GrainId.Create(GrainTypePrefix.ClientGrainType, Key + "+0b5e7e7a0b5e7e7a0b5e7e7a0b5e7e7a");

    private static readonly MethodInfo Cancel = typeof(IClusterClient).Assembly
        .GetType("Orleans.Runtime.IGrainCallCancellationExtension", throwOnError: true)!.GetMethod("CancelRequestAsync")!;

    /// <summary>The id with <paramref name="hash"/> written beside its key in place of the hash of its bytes.</summary>
    private static GrainId WithKeyHash(GrainId id, int hash) => new(id.Type, IdSpan.UnsafeCreate(id.Key.AsSpan().ToArray(), hash));

    public static TheoryData<GrainId> OthersIds => new()
    {
        GrainId.Create(GrainTypePrefix.ClientGrainType, "0bad0bad0bad0bad0bad0bad0bad0bad"),
        GrainId.Create(GrainTypePrefix.ClientGrainType, "0bad0bad0bad0bad0bad0bad0bad0bad+0b5e7e7a"),
        GrainId.Create(GrainTypePrefix.ClientGrainType, Key[..31]),
        GrainId.Create(GrainTypePrefix.ClientGrainType, Key + "0"),
        GrainId.Create(GrainTypePrefix.ClientGrainType, Key + "+"),
        GrainId.Create(GrainTypePrefix.ClientGrainType, Key + "-0b5e7e7a"),
        GrainId.Create("agentsec.agent", Key),
        GrainId.Create("agentsec.agent", Key + "+0b5e7e7a"),
        WithKeyHash(Observer, 12345),
        WithKeyHash(Client, 12345),
    };

    [Fact]
    public void IsOwn_ItselfAndItsObservers_AreItsOwn()
    {
        Assert.True(ClientOwnIds.IsOwn(Client, Client));
        Assert.True(ClientOwnIds.IsOwn(Client, Observer));
        Assert.True(ClientOwnIds.IsOwnObserver(Client, Observer));
        Assert.False(ClientOwnIds.IsOwnObserver(Client, Client));
    }

    [Theory]
    [MemberData(nameof(OthersIds))]
    public void IsOwn_AnothersIdOrAForgedHash_IsNot(GrainId named)
    {
        Assert.False(ClientOwnIds.IsOwn(Client, named));
        Assert.False(ClientOwnIds.IsOwnObserver(Client, named));
    }

    [Fact]
    public void IsOwn_NoCaller_OwnsNothing() => Assert.False(ClientOwnIds.IsOwn(null, Observer));

    [Fact]
    public void IsOwn_AGrainCaller_OwnsItselfAndNoObserver()
    {
        var agent = GrainId.Create("agentsec.agent", "t1/bot");
        Assert.True(ClientOwnIds.IsOwn(agent, agent));
        Assert.False(ClientOwnIds.IsOwn(agent, GrainId.Create("agentsec.agent", "t1/bot+0b5e7e7a")));
        Assert.False(ClientOwnIds.IsOwn(agent, GrainId.Create("agentsec.agent", "t1/other")));
        Assert.False(ClientOwnIds.IsOwn(agent, WithKeyHash(agent, 12345)));
        Assert.False(ClientOwnIds.IsOwnObserver(agent, agent));
        Assert.False(ClientOwnIds.IsOwnObserver(agent, GrainId.Create("agentsec.agent", "t1/bot+0b5e7e7a")));
        Assert.False(ClientOwnIds.CancelsAnothersCall(Cancel, agent, agent));
        Assert.True(ClientOwnIds.CancelsAnothersCall(Cancel, Client, agent));
    }

    [Fact]
    public void HashesHold_AForgedTypeHash_DoesNot()
    {
        var forgedType = new GrainId(new GrainType(IdSpan.UnsafeCreate(Encoding.UTF8.GetBytes("sys.client"), 7)), Client.Key);
        Assert.True(ClientOwnIds.HashesHold(Client));
        Assert.False(ClientOwnIds.HashesHold(forgedType));
        Assert.False(ClientOwnIds.IsOwn(Client, forgedType));
    }

    [Fact]
    public void CancelsAnothersCall_ItsOwnOrItsObserversCall_IsNot()
    {
        Assert.False(ClientOwnIds.CancelsAnothersCall(Cancel, Client, Client));
        Assert.False(ClientOwnIds.CancelsAnothersCall(Cancel, Observer, Client));
    }

    [Theory]
    [MemberData(nameof(OthersIds))]
    public void CancelsAnothersCall_AnothersCall_Is(GrainId sender) => Assert.True(ClientOwnIds.CancelsAnothersCall(Cancel, sender, Client));

    [Fact]
    public void CancelsAnothersCall_NoSenderOrNoCaller_Is()
    {
        Assert.True(ClientOwnIds.CancelsAnothersCall(Cancel, null, Client));
        Assert.True(ClientOwnIds.CancelsAnothersCall(Cancel, Key, Client));
        Assert.True(ClientOwnIds.CancelsAnothersCall(Cancel, Client, null));
    }

    [Fact]
    public void CancelsAnothersCall_AnotherMethod_IsNot()
    {
        var other = typeof(IGrainFactory).GetMethod(nameof(IGrainFactory.GetGrain), [typeof(Type), typeof(GrainId)])!;
        Assert.False(ClientOwnIds.CancelsAnothersCall(other, GrainId.Create("agentsec.agent", "t1/bot"), Client));
        Assert.False(ClientOwnIds.CancelsAnothersCall(null, null, null));
    }
}

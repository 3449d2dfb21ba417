using AgentSecurity.Grains.Boundary.Frames;
using Microsoft.Extensions.Time.Testing;

namespace AgentSecurity.Grains.Tests.Boundary.Frames;

/// <summary>What a client may send a gateway: in its own name, and answers only to what it was asked.</summary>
public sealed class ClientFrameRulesTests
{
    private readonly AwaitedAnswers _awaited = new(new FakeTimeProvider(), TimeSpan.FromMinutes(10));

    private string? Judge(FrameDirection direction, long id, GrainId sending, GrainId target, ushort flags = 0)
    {
        Assert.True(FrameHeader.TryRead(TestFrames.Header(direction, id, sending, target, flags), out var header));
        return ClientFrameRules.Judge(header, TestFrames.Identity, _awaited);
    }

    private void Asked(long id, GrainId sender) => _awaited.Add(id, sender.Type.AsSpan(), sender.Key.AsSpan());

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    public void Judge_RequestInItsOwnName_IsAllowed(byte requestOrOneWay)
    {
        var direction = (FrameDirection)requestOrOneWay;
        Assert.Null(Judge(direction, 1, TestFrames.Client, TestFrames.Agent));
        Assert.Null(Judge(direction, 2, TestFrames.Observer, TestFrames.Agent));
    }

    public static TheoryData<GrainId> OthersNames => new()
    {
        TestFrames.Agent,
        TestFrames.OtherClient,
        GrainId.Create(GrainTypePrefix.ClientGrainType, TestFrames.ClientKey[..31]),
        GrainId.Create(GrainTypePrefix.ClientGrainType, TestFrames.ClientKey + "0"),
        GrainId.Create(GrainTypePrefix.ClientGrainType, TestFrames.ClientKey + "-0b5e7e7"),
        GrainId.Create(GrainTypePrefix.ClientGrainType, TestFrames.ClientKey + "+" + new string('7', ClientIdentity.MaxOwnKeyLength)),
        GrainId.Create("sys.svc.user.agentsec", TestFrames.ClientKey),
        GrainId.Create("agentsec.callers", "t1"),
    };

    [Theory]
    [MemberData(nameof(OthersNames))]
    public void Judge_InAnothersName_IsForgedSender(GrainId sender)
    {
        Assert.Equal(FrameRefusals.ForgedSender, Judge(FrameDirection.Request, 1, sender, TestFrames.Agent));
        Assert.Equal(FrameRefusals.ForgedSender, Judge(FrameDirection.OneWay, 1, sender, TestFrames.Agent));
        Asked(7, TestFrames.Agent);
        Assert.Equal(FrameRefusals.ForgedSender, Judge(FrameDirection.Response, 7, sender, TestFrames.Agent));
    }

    [Fact]
    public void Judge_AnIdWhoseHashIsNotItsBytes_IsForgedHash()
    {
        var hash = (int)StableHash.ComputeHash(TestFrames.Agent.Key.AsSpan());
        Assert.True(FrameHeader.TryRead(TestFrames.Header(FrameDirection.Request, 1, TestFrames.Client, TestFrames.Agent, targetKeyHash: hash), out var own));
        Assert.True(FrameHeader.TryRead(TestFrames.Header(FrameDirection.Request, 1, TestFrames.Client, TestFrames.Agent, targetKeyHash: hash ^ 0x5A5A5A5A), out var forged));

        Assert.Null(ClientFrameRules.Judge(own, TestFrames.Identity, _awaited));
        Assert.Equal(FrameRefusals.ForgedHash, ClientFrameRules.Judge(forged, TestFrames.Identity, _awaited));
    }

    [Fact]
    public void Judge_ResponseToNoRequestSent_IsUnaskedResponse()
    {
        Asked(7, TestFrames.Agent);

        Assert.Equal(FrameRefusals.UnaskedResponse, Judge(FrameDirection.Response, 8, TestFrames.Observer, TestFrames.Agent));
    }

    [Fact]
    public void Judge_ResponseToARequestSent_IsAllowedOnce()
    {
        Asked(7, TestFrames.Agent);

        Assert.Null(Judge(FrameDirection.Response, 7, TestFrames.Observer, TestFrames.Agent));
        Assert.Equal(FrameRefusals.UnaskedResponse, Judge(FrameDirection.Response, 7, TestFrames.Observer, TestFrames.Agent));
    }

    [Fact]
    public void Judge_ResponseWithARequestsIdToAnotherGrain_IsUnaskedResponse()
    {
        Asked(7, TestFrames.Agent);

        Assert.Equal(FrameRefusals.UnaskedResponse, Judge(FrameDirection.Response, 7, TestFrames.Observer, GrainId.Create("agentsec.callers", "t1")));
        Assert.Equal(FrameRefusals.UnaskedResponse, Judge(FrameDirection.Response, 7, TestFrames.Observer, TestFrames.OtherClient));
        Assert.Null(Judge(FrameDirection.Response, 7, TestFrames.Observer, TestFrames.Agent));
    }

    [Theory]
    [InlineData(1 << 7)]
    [InlineData(1 << 9)]
    [InlineData(1 << 15)]
    public void Judge_AFlagOnlySilosSet_IsSiloOnlyFlag(int flag)
    {
        Asked(7, TestFrames.Agent);

        Assert.Equal(FrameRefusals.SiloOnlyFlag, Judge(FrameDirection.Request, 1, TestFrames.Client, TestFrames.Agent, (ushort)flag));
        Assert.Equal(FrameRefusals.SiloOnlyFlag, Judge(FrameDirection.Response, 7, TestFrames.Observer, TestFrames.Agent, (ushort)flag));
    }

    [Fact]
    public void Judge_FlagsClientsSet_AreAllowed()
    {
        // System message, read-only, always interleave, unordered, request context, interface version and type, time to live, no keep-alive.
        const ushort ClientFlags = 0b0000_0101_0111_1111;

        Assert.Null(Judge(FrameDirection.Request, 1, TestFrames.Client, TestFrames.Agent, ClientFlags));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(4)]
    [InlineData(15)]
    public void Judge_NoKnownDirection_IsNoDirection(byte direction)
    {
        Assert.Equal(FrameRefusals.NoDirection, Judge((FrameDirection)direction, 1, TestFrames.Client, TestFrames.Agent));
    }
}

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
        return ClientFrameRules.Judge(header, TestFrames.Identity, _awaited, TestFrames.Silos);
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
        GrainId.Create(GrainTypePrefix.ClientGrainType, TestFrames.ClientKey + "+"),
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

        Assert.Null(ClientFrameRules.Judge(own, TestFrames.Identity, _awaited, TestFrames.Silos));
        Assert.Equal(FrameRefusals.ForgedHash, ClientFrameRules.Judge(forged, TestFrames.Identity, _awaited, TestFrames.Silos));
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

    public static TheoryData<GrainId> OtherClientsAndTheirObservers => new()
    {
        TestFrames.OtherClient,
        GrainId.Create(GrainTypePrefix.ClientGrainType, "0bad0bad0bad0bad0bad0bad0bad0bad+0b5e7e7a0b5e7e7a0b5e7e7a0b5e7e7a"),
        GrainId.Create(GrainTypePrefix.ClientGrainType, "hosted-S10.0.0.1:11111:12345"),
        GrainId.Create(GrainTypePrefix.ClientGrainType, TestFrames.ClientKey + "0"),
    };

    [Theory]
    [MemberData(nameof(OtherClientsAndTheirObservers))]
    public void Judge_CallToAnotherClientOrItsObserver_IsClientTarget(GrainId target)
    {
        Assert.Equal(FrameRefusals.ClientTarget, Judge(FrameDirection.Request, 1, TestFrames.Client, target));
        Assert.Equal(FrameRefusals.ClientTarget, Judge(FrameDirection.OneWay, 2, TestFrames.Client, target));
        Assert.True(FrameRefusals.EndsTheConnection(FrameRefusals.ClientTarget));
    }

    [Fact]
    public void Judge_CallToItsOwnObserver_IsAllowed() => Assert.Null(Judge(FrameDirection.Request, 1, TestFrames.Client, TestFrames.Observer));

    private static readonly GrainId Manifest = SystemTargetGrainId.Create(SystemTargetGrainId.CreateGrainType("manifest"), TestFrames.Gateway).GrainId;

    private string? JudgeSystemTarget(SiloAddress? silo, int? hash = null)
    {
        var bytes = TestFrames.Header(FrameDirection.Request, 1, TestFrames.Client, Manifest, targetSilo: silo, targetSiloHash: hash, noTargetSilo: silo is null);
        Assert.True(FrameHeader.TryRead(bytes, out var header));
        return ClientFrameRules.Judge(header, TestFrames.Identity, _awaited, TestFrames.Silos);
    }

    [Fact]
    public void Judge_SystemTargetAtThisGatewayOrAMember_IsAllowed()
    {
        Assert.Null(JudgeSystemTarget(TestFrames.Gateway));
        Assert.Null(JudgeSystemTarget(SiloAddress.New(TestFrames.Gateway.Endpoint, 0)));
        Assert.Null(JudgeSystemTarget(SiloAddress.New(new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, TestFrames.Gateway.Endpoint.Port), TestFrames.Gateway.Generation)));
        Assert.Null(JudgeSystemTarget(TestFrames.OtherSilo));
    }

    public static TheoryData<string> UnknownSilos => new()
    {
        "10.0.0.1:30001@12345",
        "10.0.0.1:30000@12344",
        "10.0.0.2:11111@12345",
        "127.0.0.1:30000@0",
        "127.0.0.1:30001@12345",
        "169.254.169.254:80@0",
    };

    [Theory]
    [MemberData(nameof(UnknownSilos))]
    public void Judge_SystemTargetAtAnotherAddress_IsUnknownSiloAndDroppedAlone(string silo)
    {
        Assert.Equal(FrameRefusals.UnknownSilo, JudgeSystemTarget(SiloAddress.FromParsableString(silo)));
        Assert.False(FrameRefusals.EndsTheConnection(FrameRefusals.UnknownSilo));
    }

    [Fact]
    public void Judge_SystemTargetAtNoSilo_IsUnknownSilo() => Assert.Equal(FrameRefusals.UnknownSilo, JudgeSystemTarget(null));

    [Fact]
    public void Judge_AGrainCallNamingAnotherSilo_IsAllowed()
    {
        // The gateway routes a grain's call by the directory, whatever silo the client wrote.
        var bytes = TestFrames.Header(FrameDirection.Request, 1, TestFrames.Client, TestFrames.Agent, targetSilo: SiloAddress.FromParsableString("169.254.169.254:80@0"));
        Assert.True(FrameHeader.TryRead(bytes, out var header));
        Assert.Null(ClientFrameRules.Judge(header, TestFrames.Identity, _awaited, TestFrames.Silos));
    }

    [Fact]
    public void Judge_ASiloAddressWithAnotherHash_IsForgedHash()
    {
        var bytes = TestFrames.Header(FrameDirection.Request, 1, TestFrames.Client, TestFrames.Agent, targetSiloHash: TestFrames.OtherSilo.GetConsistentHashCode());
        Assert.True(FrameHeader.TryRead(bytes, out var header));
        Assert.Equal(FrameRefusals.ForgedHash, ClientFrameRules.Judge(header, TestFrames.Identity, _awaited, TestFrames.Silos));
    }
}

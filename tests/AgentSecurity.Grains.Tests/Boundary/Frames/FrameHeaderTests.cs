using AgentSecurity.Grains.Boundary.Frames;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Serialization.Buffers;
using Orleans.Serialization.Session;

namespace AgentSecurity.Grains.Tests.Boundary.Frames;

/// <summary>The gate reads a frame's first fields from bytes Orleans' own writer made.</summary>
public sealed class FrameHeaderTests
{
    [Theory]
    [InlineData(1, 1L)]
    [InlineData(2, -7_000_000_000_123L)]
    [InlineData(3, long.MaxValue)]
    public void TryRead_HeaderOrleansWrote_ReadsDirectionIdSenderAndTarget(byte requestResponseOrOneWay, long id)
    {
        var direction = (FrameDirection)requestResponseOrOneWay;
        var bytes = TestFrames.Header(direction, id, TestFrames.Observer, TestFrames.Agent, flags: 0x0110);

        Assert.True(FrameHeader.TryRead(bytes, out var header));

        Assert.Equal(direction, header.Direction);
        Assert.Equal(direction, FrameHeader.ReadDirection(bytes));
        Assert.Equal(id, header.Id);
        Assert.Equal((FrameFlags)0x0110, header.Flags);
        Assert.Equal(TestFrames.Observer.Type.AsSpan(), header.SendingType);
        Assert.Equal(TestFrames.Observer.Key.AsSpan(), header.SendingKey);
        Assert.Equal(TestFrames.Agent.Type.AsSpan(), header.TargetType);
        Assert.Equal(TestFrames.Agent.Key.AsSpan(), header.TargetKey);
    }

    public static TheoryData<string?, bool> TargetSilos => new()
    {
        { "10.0.0.1:30000@12345", false },
        { "[2001:db8::7]:11111@99", false },
        { "127.0.0.1:30000@0", true },
        { null, false },
    };

    [Theory]
    [MemberData(nameof(TargetSilos))]
    public void TryRead_MessageOrleansWrote_ReadsItsIdsAndItsTargetSilo(string? targetSilo, bool withSendingSilo)
    {
        var silo = targetSilo is null ? null : SiloAddress.FromParsableString(targetSilo);
        var frame = TestFrames.OrleansFrame(FrameDirection.Request, 77, TestFrames.Observer, TestFrames.Agent, silo, withSendingSilo ? TestFrames.OtherSilo : null);
        var (headerLength, _) = FrameHeader.ReadPrefix(frame);

        Assert.True(FrameHeader.TryRead(frame.AsSpan(FrameHeader.PrefixLength, headerLength), out var header));

        Assert.Equal(FrameDirection.Request, header.Direction);
        Assert.Equal(77, header.Id);
        Assert.Equal(TestFrames.Observer.Key.AsSpan(), header.SendingKey);
        Assert.Equal(TestFrames.Agent.Key.AsSpan(), header.TargetKey);
        Assert.True(header.HashesHold);
        Assert.Equal(silo is not null, header.TargetSilo.IsPresent);
        if (silo is not null)
        {
            Assert.Equal(silo.Endpoint, header.TargetSilo.ToEndPoint());
            Assert.Equal(silo.Generation, header.TargetSilo.Generation);
            Assert.Equal(silo.GetConsistentHashCode(), header.TargetSilo.ConsistentHash());
        }
    }

    [Fact]
    public void TryRead_ASiloAddressWithAnotherHash_HashesDoNotHold()
    {
        var forged = TestFrames.Header(FrameDirection.Request, 1, TestFrames.Client, TestFrames.Agent, targetSilo: TestFrames.OtherSilo, targetSiloHash: TestFrames.Gateway.GetConsistentHashCode());

        Assert.True(FrameHeader.TryRead(forged, out var header));

        Assert.False(header.HashesHold);
    }

    /// <summary>
    /// Orleans makes an IPv4-mapped IPv6 address its IPv4 silo (an interned instance) and sets the hash read on it: the
    /// mapped form, with the hash of its 16 bytes, would give a real silo's address a forged hash. No Orleans writer makes it.
    /// </summary>
    [Fact]
    public void TryRead_ASiloAddressMappedIntoIPv6_IsNoHeader()
    {
        var mapped = SiloAddress.New(new System.Net.IPEndPoint(System.Net.IPAddress.Parse("::ffff:10.0.0.2"), 11111), 12346);
        var bytes = TestFrames.Header(FrameDirection.Request, 1, TestFrames.Client, TestFrames.Agent, targetSilo: mapped, mappedIp: true);

        Assert.False(FrameHeader.TryRead(bytes, out _));
    }

    [Fact]
    public void TryRead_AnyTruncation_IsFalse()
    {
        var bytes = TestFrames.Header(FrameDirection.Response, 42, TestFrames.Client, TestFrames.Agent, rest: 0);

        for (var length = 0; length < bytes.Length; length++)
        {
            Assert.False(FrameHeader.TryRead(bytes.AsSpan(0, length), out _), $"read from {length} of {bytes.Length} bytes");
        }

        Assert.True(FrameHeader.TryRead(bytes, out _));
    }

    [Theory]
    [InlineData(0u)]
    [InlineData(1u)]
    [InlineData(127u)]
    [InlineData(128u)]
    [InlineData(16_383u)]
    [InlineData(16_384u)]
    [InlineData(2_097_151u)]
    [InlineData(2_097_152u)]
    [InlineData(268_435_455u)]
    [InlineData(268_435_456u)]
    [InlineData(uint.MaxValue)]
    public void TryReadVarUInt32_WhatOrleansWrote_IsTheValueAndItsLength(uint value)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>();
        using var session = TestFrames.Services.GetRequiredService<SerializerSessionPool>().GetSession();
        var writer = Writer.Create(buffer, session);
        writer.WriteVarUInt32(value);
        writer.WriteByte(0x5A);
        writer.Commit();
        ReadOnlySpan<byte> input = buffer.WrittenSpan;

        Assert.True(FrameHeader.TryReadVarUInt32(ref input, out var read));

        Assert.Equal(value, read);
        Assert.Equal([0x5A], input.ToArray());
    }

    [Theory]
    [InlineData(new byte[0])]
    [InlineData(new byte[] { 0x00, 1, 2, 3, 4, 5, 6, 7, 8 })]
    [InlineData(new byte[] { 0x20, 1, 2, 3, 4, 5 })]
    [InlineData(new byte[] { 0x02 })]
    [InlineData(new byte[] { 0x10, 0xFF, 0xFF, 0xFF, 0xFF })]
    public void TryReadVarUInt32_NotAValue_IsFalse(byte[] bytes)
    {
        ReadOnlySpan<byte> input = bytes;

        Assert.False(FrameHeader.TryReadVarUInt32(ref input, out _));
    }
}

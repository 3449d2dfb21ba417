using System.Buffers;
using System.IO.Pipelines;
using AgentSecurity.Grains.Boundary.Frames;
using Microsoft.Extensions.Time.Testing;

namespace AgentSecurity.Grains.Tests.Boundary.Frames;

/// <summary>What a silo writes to a client passes unchanged, and each request in it is awaited an answer.</summary>
public sealed class SiloFrameWriterTests
{
    private readonly AwaitedAnswers _awaited = new(new FakeTimeProvider(), TimeSpan.FromMinutes(10));

    private static readonly GrainId Audit = GrainId.Create("agentsec.audit", "t1");

    [Theory]
    [InlineData(1)]
    [InlineData(5)]
    [InlineData(17)]
    [InlineData(4096)]
    public async Task Advance_FramesInAnyPieces_PassUnchangedAndRequestsAreAwaited(int piece)
    {
        var pipe = new Pipe(new PipeOptions(pauseWriterThreshold: 0, resumeWriterThreshold: 0));
        var writer = new SiloFrameWriter(pipe.Writer, _awaited);
        var sent = TestFrames.Concat(
            TestFrames.Preamble(GrainId.Create("sys.silo", "s1")),
            TestFrames.Frame(FrameDirection.Response, 1, TestFrames.Agent, TestFrames.Client, bodyLength: 300),
            TestFrames.Frame(FrameDirection.Request, 2, Audit, TestFrames.Observer, bodyLength: 10_000),
            TestFrames.Frame(FrameDirection.OneWay, 3, Audit, TestFrames.Observer),
            TestFrames.Frame(FrameDirection.Request, 4, TestFrames.Agent, TestFrames.Observer, bodyLength: 0),
            TestFrames.Frame(TestFrames.Header(FrameDirection.Request, 5, Audit, TestFrames.Observer, rest: 3000)));

        for (var at = 0; at < sent.Length; at += piece)
        {
            writer.Write(sent.AsSpan(at, Math.Min(piece, sent.Length - at)));
        }

        await writer.FlushAsync();
        await writer.CompleteAsync();

        var passed = await pipe.Reader.ReadAsync();
        Assert.Equal(sent, passed.Buffer.ToArray());
        Assert.Equal(3, _awaited.Count);
        Assert.True(_awaited.TryTake(2, Audit.Type.AsSpan(), Audit.Key.AsSpan()));
        Assert.True(_awaited.TryTake(4, TestFrames.Agent.Type.AsSpan(), TestFrames.Agent.Key.AsSpan()));
        Assert.True(_awaited.TryTake(5, Audit.Type.AsSpan(), Audit.Key.AsSpan()));
        Assert.False(_awaited.TryTake(1, TestFrames.Agent.Type.AsSpan(), TestFrames.Agent.Key.AsSpan()));
        Assert.False(_awaited.TryTake(3, Audit.Type.AsSpan(), Audit.Key.AsSpan()));
    }
}

using System.Buffers;
using System.Buffers.Binary;
using System.Diagnostics.Metrics;
using System.IO.Pipelines;
using AgentSecurity.Grains.Boundary.Frames;
using AgentSecurity.Grains.Telemetry;
using AgentSecurity.Grains.Tests.Boundary.Frames;
using BenchmarkDotNet.Attributes;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;

namespace AgentSecurity.Benchmarks;

/// <summary>
/// What the gateway's gate (<c>Grains/Boundary/Frames</c>) adds per message: a client's request frames read as Orleans'
/// connection reads them, through the gate and straight from the pipe; the silo's answers written, through the gate's
/// writer and straight. Frames the size of a check's (a 150-byte header, a 60-byte body), a thousand per operation.
/// </summary>
[MemoryDiagnoser]
public class GatewayGateBenchmarks
{
    private const int Frames = 1_000;

    private byte[] _clientBytes = null!;
    private byte[] _siloBytes = null!;
    private ClientPreambles _preambles = null!;
    private AgentSecurityMetrics _metrics = null!;

    [GlobalSetup]
    public void Setup()
    {
        _preambles = TestFrames.Preambles;
        _metrics = new AgentSecurityMetrics(new ServiceCollection().AddMetrics().BuildServiceProvider().GetRequiredService<IMeterFactory>());
        var agent = GrainId.Create("agentsec.agent", "tenant-0001/agent-0001");

        // A header of about 150 bytes, as a check's: the ids, then the rest of a header the gate does not read.
        var request = TestFrames.Frame(TestFrames.Header(FrameDirection.Request, 7, TestFrames.Client, agent, rest: 90), bodyLength: 60);
        var answer = TestFrames.Frame(TestFrames.Header(FrameDirection.Response, 7, agent, TestFrames.Client, rest: 90), bodyLength: 60);
        _clientBytes = [.. TestFrames.Preamble(TestFrames.Client), .. Enumerable.Repeat(request, Frames).SelectMany(f => f)];
        _siloBytes = [.. TestFrames.Preamble(GrainId.Create("sys.silo", "s1")), .. Enumerable.Repeat(answer, Frames).SelectMany(f => f)];
        if (ReadGated() != Frames || ReadPlain() != Frames)
        {
            throw new InvalidOperationException("the gate does not show every allowed frame");
        }
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = Frames)]
    public int ReadPlain() => Read(NewPipe(_clientBytes).Reader);

    [Benchmark(OperationsPerInvoke = Frames)]
    public int ReadGated()
    {
        var connection = new GatedConnection(_preambles, new AwaitedAnswers(TimeProvider.System, TimeSpan.FromMinutes(10)), TestFrames.Silos, 6144, 1 << 20, _metrics, NullLogger.Instance);
        return Read(new ClientFrameReader(NewPipe(_clientBytes).Reader, connection));
    }

    [Benchmark(OperationsPerInvoke = Frames)]
    public long WritePlain() => Write(Unbounded().Writer);

    [Benchmark(OperationsPerInvoke = Frames)]
    public long WriteGated() => Write(new SiloFrameWriter(Unbounded().Writer, new AwaitedAnswers(TimeProvider.System, TimeSpan.FromMinutes(10))));

    private long Write(PipeWriter writer)
    {
        var at = 0;
        var written = 0L;
        while (at < _siloBytes.Length)
        {
            // A message at a time, as Orleans' writer commits them.
            var length = at == 0 ? sizeof(int) + BinaryPrimitives.ReadInt32LittleEndian(_siloBytes) : FrameLength(_siloBytes.AsSpan(at));
            writer.Write(_siloBytes.AsSpan(at, length));
            at += length;
            written += length;
            if (written > 32_768)
            {
                _ = writer.FlushAsync().AsTask().Result;
                written = 0;
            }
        }

        writer.Complete();
        return at;
    }

    /// <summary>A pipe nobody reads here: without back-pressure, so that a flush does not wait for a reader.</summary>
    private static Pipe Unbounded() => new(new PipeOptions(pauseWriterThreshold: 0, resumeWriterThreshold: 0));

    private static Pipe NewPipe(byte[] bytes)
    {
        var pipe = Unbounded();
        pipe.Writer.Write(bytes);
        pipe.Writer.Complete();
        return pipe;
    }

    /// <summary>The preamble, then whole frames, as Orleans' connection takes them.</summary>
    private static int Read(PipeReader reader)
    {
        var frames = -1;
        Span<byte> prefix = stackalloc byte[8];
        while (true)
        {
            var result = reader.ReadAsync().AsTask().Result;
            var buffer = result.Buffer;
            while (true)
            {
                var lengths = frames < 0 ? sizeof(int) : 8;
                if (buffer.Length < lengths)
                {
                    break;
                }

                buffer.Slice(0, lengths).CopyTo(prefix);
                var length = frames < 0 ? sizeof(int) + BinaryPrimitives.ReadInt32LittleEndian(prefix) : FrameLength(prefix);
                if (buffer.Length < length)
                {
                    break;
                }

                buffer = buffer.Slice(length);
                frames++;
            }

            if (result.IsCompleted)
            {
                reader.Complete();
                return frames;
            }

            reader.AdvanceTo(buffer.Start, buffer.End);
        }
    }

    private static int FrameLength(ReadOnlySpan<byte> prefix) =>
        8 + BinaryPrimitives.ReadInt32LittleEndian(prefix) + BinaryPrimitives.ReadInt32LittleEndian(prefix[4..]);
}

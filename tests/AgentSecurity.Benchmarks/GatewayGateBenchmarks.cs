using System.Buffers;
using System.Buffers.Binary;
using System.Diagnostics.Metrics;
using System.IO.Pipelines;
using AgentSecurity.Grains.Boundary.Frames;
using AgentSecurity.Grains.Telemetry;
using BenchmarkDotNet.Attributes;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Orleans.Serialization;
using Orleans.Serialization.Buffers;
using Orleans.Serialization.Session;

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
        var services = new ServiceCollection().AddSerializer().AddMetrics().BuildServiceProvider();
        _preambles = new ClientPreambles(services);
        _metrics = new AgentSecurityMetrics(services.GetRequiredService<IMeterFactory>());
        var client = GrainId.Create(GrainTypePrefix.ClientGrainType, "0b1e2c3d4e5f60718293a4b5c6d7e8f9");
        var agent = GrainId.Create("agentsec.agent", "tenant-0001/agent-0001");
        var sessions = services.GetRequiredService<SerializerSessionPool>();
        var request = Frame(Header(sessions, 1, 7, client, agent), 60);
        var answer = Frame(Header(sessions, 2, 7, agent, client), 60);
        _clientBytes = [.. Preamble(services, client), .. Enumerable.Repeat(request, Frames).SelectMany(f => f)];
        _siloBytes = [.. Preamble(services, GrainId.Create("sys.silo", "s1")), .. Enumerable.Repeat(answer, Frames).SelectMany(f => f)];
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
        var connection = new GatedConnection(_preambles, new AwaitedAnswers(TimeProvider.System, TimeSpan.FromMinutes(10)), 6144, 1 << 20, _metrics, NullLogger.Instance);
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

    private static byte[] Header(SerializerSessionPool sessions, uint direction, long id, GrainId sending, GrainId target)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using var session = sessions.GetSession();
        var writer = Writer.Create(buffer, session);
        writer.WriteUInt32(direction << 16);
        writer.WriteInt64(id);
        IdSpanCodec.WriteRaw(ref writer, sending.Type.Value);
        IdSpanCodec.WriteRaw(ref writer, sending.Key);
        IdSpanCodec.WriteRaw(ref writer, target.Type.Value);
        IdSpanCodec.WriteRaw(ref writer, target.Key);
        while (buffer.WrittenCount + writer.Position < 150)
        {
            writer.WriteByte(0xEE);
        }

        writer.Commit();
        return buffer.WrittenSpan.ToArray();
    }

    private static byte[] Frame(byte[] header, int body)
    {
        var frame = new byte[8 + header.Length + body];
        BinaryPrimitives.WriteInt32LittleEndian(frame, header.Length);
        BinaryPrimitives.WriteInt32LittleEndian(frame.AsSpan(4), body);
        header.CopyTo(frame, 8);
        return frame;
    }

    private static byte[] Preamble(IServiceProvider services, GrainId node)
    {
        var type = typeof(IClusterClient).Assembly.GetType("Orleans.Runtime.Messaging.ConnectionPreamble", throwOnError: true)!;
        var preamble = Activator.CreateInstance(type, nonPublic: true)!;
        type.GetProperty("NodeIdentity")!.SetValue(preamble, node);
        type.GetProperty("ClusterId")!.SetValue(preamble, "bench");
        var serializer = services.GetRequiredService(typeof(Serializer<>).MakeGenericType(type));
        var bytes = (byte[])serializer.GetType().GetMethod("SerializeToArray", [type])!.Invoke(serializer, [preamble])!;
        return [.. BitConverter.GetBytes(bytes.Length), .. bytes];
    }
}

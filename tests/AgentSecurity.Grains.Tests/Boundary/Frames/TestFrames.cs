using System.Buffers;
using System.Buffers.Binary;
using AgentSecurity.Grains.Boundary.Frames;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Serialization;
using Orleans.Serialization.Buffers;
using Orleans.Serialization.Session;

namespace AgentSecurity.Grains.Tests.Boundary.Frames;

/// <summary>
/// Frames as Orleans writes them: the header's first fields with Orleans' own writer and id codec, the preamble with
/// Orleans' own serializer, the rest as bytes the gate does not read.
/// </summary>
internal static class TestFrames
{
    public static readonly IServiceProvider Services = new ServiceCollection().AddSerializer().BuildServiceProvider();

    public static readonly ClientPreambles Preambles = new(Services);

    /// <summary>A client's id as Orleans makes it: a GUID's 32 hex digits.</summary>
    public const string ClientKey = "c0ffee00c0ffee00c0ffee00c0ffee00";

    public static readonly GrainId Client = GrainId.Create(GrainTypePrefix.ClientGrainType, ClientKey);

    public static readonly GrainId Observer = GrainId.Create(GrainTypePrefix.ClientGrainType, ClientKey + "+0b5e7e7a0b5e7e7a0b5e7e7a0b5e7e7a");

    public static readonly GrainId OtherClient = GrainId.Create(GrainTypePrefix.ClientGrainType, "0bad0bad0bad0bad0bad0bad0bad0bad");

    public static readonly GrainId Agent = GrainId.Create("agentsec.agent", "t1/bot");

    public static ClientIdentity Identity { get; } = Preambles.Read(new ReadOnlySequence<byte>(Preamble(Client).AsMemory(sizeof(int))));

    /// <summary>A header: packed fields, id, sender and target, then <paramref name="rest"/> bytes the gate does not read.</summary>
    /// <remarks><paramref name="targetKeyHash"/>: a hash to write beside the target's key in place of its own.</remarks>
    public static byte[] Header(FrameDirection direction, long id, GrainId sending, GrainId target, ushort flags = 0, int rest = 24, int? targetKeyHash = null)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using var session = Services.GetRequiredService<SerializerSessionPool>().GetSession();
        var writer = Writer.Create(buffer, session);
        writer.WriteUInt32(((uint)direction << 16) | flags);
        writer.WriteInt64(id);
        IdSpanCodec.WriteRaw(ref writer, sending.Type.Value);
        IdSpanCodec.WriteRaw(ref writer, sending.Key);
        IdSpanCodec.WriteRaw(ref writer, target.Type.Value);
        if (targetKeyHash is { } hash)
        {
            writer.WriteVarUInt32((uint)target.Key.AsSpan().Length);
            writer.WriteInt32(hash);
            writer.Write(target.Key.AsSpan());
        }
        else
        {
            IdSpanCodec.WriteRaw(ref writer, target.Key);
        }
        for (var i = 0; i < rest; i++)
        {
            writer.WriteByte(0xEE);
        }

        writer.Commit();
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>A whole frame: the two lengths, the header, a body of <paramref name="bodyLength"/> bytes.</summary>
    public static byte[] Frame(byte[] header, int bodyLength = 40, byte body = 0xBB)
    {
        var frame = new byte[FrameHeader.PrefixLength + header.Length + bodyLength];
        BinaryPrimitives.WriteInt32LittleEndian(frame, header.Length);
        BinaryPrimitives.WriteInt32LittleEndian(frame.AsSpan(4), bodyLength);
        header.CopyTo(frame, FrameHeader.PrefixLength);
        frame.AsSpan(FrameHeader.PrefixLength + header.Length).Fill(body);
        return frame;
    }

    public static byte[] Frame(FrameDirection direction, long id, GrainId sending, GrainId target, ushort flags = 0, int bodyLength = 40) =>
        Frame(Header(direction, id, sending, target, flags), bodyLength);

    /// <summary>A connection's preamble naming <paramref name="node"/>, with its length before it, as Orleans writes it.</summary>
    public static byte[] Preamble(GrainId node)
    {
        var type = typeof(IClusterClient).Assembly.GetType("Orleans.Runtime.Messaging.ConnectionPreamble", throwOnError: true)!;
        var preamble = Activator.CreateInstance(type, nonPublic: true)!;
        type.GetProperty("NodeIdentity")!.SetValue(preamble, node);
        type.GetProperty("ClusterId")!.SetValue(preamble, "test-cluster");
        var serializer = Services.GetRequiredService(typeof(Serializer<>).MakeGenericType(type));
        var bytes = (byte[])serializer.GetType().GetMethod("SerializeToArray", [type])!.Invoke(serializer, [preamble])!;
        var framed = new byte[sizeof(int) + bytes.Length];
        BinaryPrimitives.WriteInt32LittleEndian(framed, bytes.Length);
        bytes.CopyTo(framed, sizeof(int));
        return framed;
    }

    public static byte[] Concat(params byte[][] parts) => parts.SelectMany(p => p).ToArray();
}

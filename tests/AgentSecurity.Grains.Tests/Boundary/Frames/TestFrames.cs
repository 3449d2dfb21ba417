using System.Buffers;
using System.Buffers.Binary;
using System.Net;
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

    /// <summary>The gateway the test's frames come to.</summary>
    public static readonly SiloAddress Gateway = SiloAddress.New(new IPEndPoint(IPAddress.Parse("10.0.0.1"), 30000), 12345);

    /// <summary>Another silo of the cluster's membership.</summary>
    public static readonly SiloAddress OtherSilo = SiloAddress.New(new IPEndPoint(IPAddress.Parse("10.0.0.2"), 11111), 12346);

    public static ReachableSilos Silos { get; } = new(Gateway, silo => silo.Equals(OtherSilo));

    /// <summary>
    /// A header: packed fields, id, sender and target, no sending silo, the target silo (by default the gateway, as an
    /// Orleans client writes it), then <paramref name="rest"/> bytes the gate does not read.
    /// </summary>
    /// <remarks>
    /// <paramref name="targetKeyHash"/>, <paramref name="targetSiloHash"/>: a hash to write in place of the right one.
    /// <paramref name="noTargetSilo"/>: none written.
    /// </remarks>
    public static byte[] Header(
        FrameDirection direction, long id, GrainId sending, GrainId target, ushort flags = 0, int rest = 24, int? targetKeyHash = null,
        SiloAddress? targetSilo = null, int? targetSiloHash = null, bool noTargetSilo = false, bool mappedIp = false)
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

        writer.WriteVarUInt32(0);
        if (noTargetSilo)
        {
            writer.WriteVarUInt32(0);
        }
        else
        {
            WriteSilo(ref writer, targetSilo ?? Gateway, targetSiloHash, mappedIp);
        }

        for (var i = 0; i < rest; i++)
        {
            writer.WriteByte(0xEE);
        }

        writer.Commit();
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>
    /// A silo address as Orleans' internal <c>CachingSiloAddressCodec</c> writes it (written out here: its writer takes a
    /// ref struct, which reflection cannot pass; every test cluster's real clients show the gate reads Orleans' own).
    /// </summary>
    /// <remarks><paramref name="mapped"/>: an IPv4 address written mapped into IPv6, with the hash of those 16 bytes.</remarks>
    private static void WriteSilo(ref Writer<ArrayBufferWriter<byte>> writer, SiloAddress silo, int? hash, bool mapped = false)
    {
        var ip = mapped ? silo.Endpoint.Address.MapToIPv6().GetAddressBytes() : silo.Endpoint.Address.GetAddressBytes();
        if (mapped)
        {
            var hashed = new byte[24];
            ip.CopyTo(hashed, 0);
            BinaryPrimitives.WriteInt32LittleEndian(hashed.AsSpan(16), silo.Endpoint.Port);
            BinaryPrimitives.WriteInt32LittleEndian(hashed.AsSpan(20), silo.Generation);
            hash ??= (int)StableHash.ComputeHash(hashed);
        }

        var payload = new ArrayBufferWriter<byte>();
        using var session = Services.GetRequiredService<SerializerSessionPool>().GetSession();
        var inner = Writer.Create(payload, session);
        inner.WriteInt32(hash ?? silo.GetConsistentHashCode());
        inner.WriteVarUInt32((uint)ip.Length);
        inner.Write(ip);
        inner.WriteVarUInt16((ushort)silo.Endpoint.Port);
        inner.WriteInt32(silo.Generation);
        inner.Commit();
        writer.WriteVarUInt32((uint)payload.WrittenCount);
        writer.Write(payload.WrittenSpan);
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

    /// <summary>
    /// A whole frame as Orleans' own (internal) <c>MessageSerializer</c> writes a message: the check that the gate reads the
    /// format Orleans writes, not the one these tests write.
    /// </summary>
    public static byte[] OrleansFrame(FrameDirection direction, long id, GrainId sending, GrainId target, SiloAddress? targetSilo, SiloAddress? sendingSilo = null)
    {
        var core = typeof(IClusterClient).Assembly;
        var messageType = core.GetType("Orleans.Runtime.Message", throwOnError: true)!;
        var message = Activator.CreateInstance(messageType)!;
        void Set(string name, object? value) => messageType.GetProperty(name, System.Reflection.BindingFlags.Instance | System.Reflection.BindingFlags.Public | System.Reflection.BindingFlags.NonPublic)!.SetValue(message, value);
        Set("Direction", Enum.ToObject(messageType.GetNestedType("Directions")!, (int)direction));
        Set("Id", Activator.CreateInstance(core.GetType("Orleans.Runtime.CorrelationId", throwOnError: true)!, [id]));
        Set("SendingGrain", sending);
        Set("TargetGrain", target);
        Set("SendingSilo", sendingSilo);
        Set("TargetSilo", targetSilo);

        var pool = Activator.CreateInstance(core.GetType("Orleans.Networking.Shared.SharedMemoryPool", throwOnError: true)!, nonPublic: true)!;
        var serializerType = core.GetType("Orleans.Runtime.Messaging.MessageSerializer", throwOnError: true)!;
        var serializer = Activator.CreateInstance(serializerType, Services.GetRequiredService<SerializerSessionPool>(), pool, new Orleans.Configuration.ClientMessagingOptions())!;
        var pipe = new System.IO.Pipelines.Pipe();
        serializerType.GetMethod("Write")!.Invoke(serializer, [pipe.Writer, message]);
        pipe.Writer.FlushAsync().AsTask().GetAwaiter().GetResult();
        pipe.Writer.Complete();
        var read = pipe.Reader.ReadAsync().AsTask().GetAwaiter().GetResult();
        return read.Buffer.ToArray();
    }

    public static byte[] Concat(params byte[][] parts) => parts.SelectMany(p => p).ToArray();
}

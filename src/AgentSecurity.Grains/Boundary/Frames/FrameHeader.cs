using System.Buffers.Binary;
using System.Numerics;

namespace AgentSecurity.Grains.Boundary.Frames;

/// <summary>
/// The first fields of an Orleans message frame, read from its bytes without Orleans' deserializer: enough to say what a
/// frame is and whom it claims to come from before the silo acts on it.
/// </summary>
/// <remarks>
/// The wire format of Orleans 10 (<c>MessageSerializer</c>): a frame is the header's length and the body's length (two
/// little-endian 32-bit integers), then the header, then the body. The header starts with the packed headers (32 bits:
/// forward count, response type, direction, flags), the correlation id (64 bits), then the sending and the target grain,
/// each a type and a key written as an id span (a variable-width length; unless zero, a 32-bit hash and the bytes), then
/// the sending and the target silo, each a variable-width length and (unless zero) that many bytes: a 32-bit hash, the IP
/// address (its length, its bytes), the port and the generation. The silo's own deserializer reads the rest; a change of
/// this format fails the boundary's tests, not open.
/// </remarks>
internal readonly ref struct FrameHeader
{
    /// <summary>The two length fields before each frame.</summary>
    public const int PrefixLength = 8;

    private const uint DirectionMask = 0x000F_0000;
    private const int DirectionShift = 16;

    private FrameHeader(uint packed, long id, ReadOnlySpan<byte> sendingType, ReadOnlySpan<byte> sendingKey, ReadOnlySpan<byte> targetType, ReadOnlySpan<byte> targetKey, FrameSilo targetSilo, bool hashesHold)
    {
        Packed = packed;
        HashesHold = hashesHold;
        Id = id;
        SendingType = sendingType;
        SendingKey = sendingKey;
        TargetType = targetType;
        TargetKey = targetKey;
        TargetSilo = targetSilo;
    }

    public uint Packed { get; }

    public FrameDirection Direction => (FrameDirection)((Packed & DirectionMask) >> DirectionShift);

    public FrameFlags Flags => (FrameFlags)(ushort)Packed;

    /// <summary>The correlation id: a request's, or the request's a response answers.</summary>
    public long Id { get; }

    public ReadOnlySpan<byte> SendingType { get; }

    public ReadOnlySpan<byte> SendingKey { get; }

    public ReadOnlySpan<byte> TargetType { get; }

    public ReadOnlySpan<byte> TargetKey { get; }

    /// <summary>The silo the message names as its destination (a client names its gateway; the gateway forwards a system target's message there).</summary>
    public FrameSilo TargetSilo { get; }

    /// <summary>
    /// Whether each id's hash, written beside it, is the hash of its bytes, and each silo address's its own. Orleans keeps
    /// the hash a message brings: a grain id with another hash is another grain to the directory (a second activation of
    /// the same grain, beside a quarantined one), and a silo address read with another hash enters the process's shared
    /// cache of addresses, where every later reading of that silo's address gets it (its place on the ring).
    /// </summary>
    public bool HashesHold { get; }

    /// <summary>Reads the two lengths of a frame's prefix.</summary>
    public static (int HeaderLength, int BodyLength) ReadPrefix(ReadOnlySpan<byte> prefix) =>
        (BinaryPrimitives.ReadInt32LittleEndian(prefix), BinaryPrimitives.ReadInt32LittleEndian(prefix[4..]));

    /// <summary>Reads the direction from the packed headers, the first four bytes of a header.</summary>
    public static FrameDirection ReadDirection(ReadOnlySpan<byte> header) =>
        (FrameDirection)((BinaryPrimitives.ReadUInt32LittleEndian(header) & DirectionMask) >> DirectionShift);

    /// <summary>Reads a whole header (without the frame's prefix); false if it is not one.</summary>
    public static bool TryRead(ReadOnlySpan<byte> header, out FrameHeader value)
    {
        value = default;
        if (header.Length < sizeof(uint) + sizeof(long))
        {
            return false;
        }

        var packed = BinaryPrimitives.ReadUInt32LittleEndian(header);
        var id = BinaryPrimitives.ReadInt64LittleEndian(header[sizeof(uint)..]);
        var rest = header[(sizeof(uint) + sizeof(long))..];
        var hashesHold = true;
        if (!TryReadIdSpan(ref rest, out var sendingType, ref hashesHold) || !TryReadIdSpan(ref rest, out var sendingKey, ref hashesHold)
            || !TryReadIdSpan(ref rest, out var targetType, ref hashesHold) || !TryReadIdSpan(ref rest, out var targetKey, ref hashesHold)
            || !TryReadSilo(ref rest, out _, ref hashesHold) || !TryReadSilo(ref rest, out var targetSilo, ref hashesHold))
        {
            return false;
        }

        value = new FrameHeader(packed, id, sendingType, sendingKey, targetType, targetKey, targetSilo, hashesHold);
        return true;
    }

    /// <summary>A silo address as Orleans' <c>CachingSiloAddressCodec</c> writes it: its length, then (unless empty) its hash, IP, port and generation.</summary>
    private static bool TryReadSilo(scoped ref ReadOnlySpan<byte> input, out FrameSilo silo, scoped ref bool hashHolds)
    {
        silo = default;
        if (!TryReadVarUInt32(ref input, out var length))
        {
            return false;
        }

        if (length == 0)
        {
            return true;
        }

        if ((ulong)input.Length < length || length < sizeof(int))
        {
            return false;
        }

        var payload = input[..(int)length];
        input = input[(int)length..];
        var hash = BinaryPrimitives.ReadInt32LittleEndian(payload);
        payload = payload[sizeof(int)..];
        if (!TryReadVarUInt32(ref payload, out var ipLength) || ipLength is not (4 or 16) || payload.Length < ipLength)
        {
            return false;
        }

        // Orleans interns a silo address by its IPv4 form and sets the hash read on that shared instance: an IPv4 address
        // written mapped into IPv6 would bring the hash of other bytes than the address it becomes. Orleans writes IPv4 as 4 bytes.
        var ip = payload[..(int)ipLength];
        if (ip.Length == 16 && ip[..10].IndexOfAnyExcept((byte)0) < 0 && ip[10] == 0xFF && ip[11] == 0xFF)
        {
            return false;
        }

        payload = payload[(int)ipLength..];
        if (!TryReadVarUInt32(ref payload, out var port) || port > ushort.MaxValue || payload.Length != sizeof(int))
        {
            return false;
        }

        silo = new FrameSilo(ip, (int)port, BinaryPrimitives.ReadInt32LittleEndian(payload));
        hashHolds &= hash == silo.ConsistentHash();
        return true;
    }

    /// <summary>An id span as <c>IdSpanCodec.WriteRaw</c> writes it: its length, then (unless empty) its hash and its bytes.</summary>
    private static bool TryReadIdSpan(scoped ref ReadOnlySpan<byte> input, out ReadOnlySpan<byte> bytes, scoped ref bool hashHolds)
    {
        bytes = default;
        if (!TryReadVarUInt32(ref input, out var length))
        {
            return false;
        }

        if (length == 0)
        {
            return true;
        }

        if ((ulong)input.Length < sizeof(int) + (ulong)length)
        {
            return false;
        }

        bytes = input.Slice(sizeof(int), (int)length);
        hashHolds &= BinaryPrimitives.ReadUInt32LittleEndian(input) == StableHash.ComputeHash(bytes);
        input = input[(sizeof(int) + (int)length)..];
        return true;
    }

    /// <summary>
    /// Orleans' variable-width integer: the count of trailing zero bits of the first byte is the count of bytes that
    /// follow it; the value is the little-endian whole shifted right by that count plus one. At most five bytes.
    /// </summary>
    internal static bool TryReadVarUInt32(ref ReadOnlySpan<byte> input, out uint value)
    {
        value = 0;
        if (input.IsEmpty || input[0] == 0)
        {
            return false;
        }

        var length = BitOperations.TrailingZeroCount(input[0]) + 1;
        if (length > 5 || input.Length < length)
        {
            return false;
        }

        ulong whole = 0;
        for (var i = length - 1; i >= 0; i--)
        {
            whole = (whole << 8) | input[i];
        }

        whole >>= length;
        if (whole > uint.MaxValue)
        {
            return false;
        }

        value = (uint)whole;
        input = input[length..];
        return true;
    }
}

/// <summary>A silo address as a frame writes it (<see cref="IsPresent"/> false: none).</summary>
internal readonly ref struct FrameSilo(ReadOnlySpan<byte> ip, int port, int generation)
{
    public bool IsPresent => !Ip.IsEmpty;

    /// <summary>The address's bytes: 4 (IPv4) or 16 (IPv6).</summary>
    public ReadOnlySpan<byte> Ip { get; } = ip;

    public int Port { get; } = port;

    public int Generation { get; } = generation;

    /// <summary>Orleans' consistent hash of a silo address (<c>SiloAddress.GetConsistentHashCode</c>): of its IP, port and generation.</summary>
    public int ConsistentHash()
    {
        Span<byte> bytes = stackalloc byte[24];
        bytes.Clear();
        Ip.CopyTo(bytes);
        BinaryPrimitives.WriteInt32LittleEndian(bytes[16..], Port);
        BinaryPrimitives.WriteInt32LittleEndian(bytes[20..], Generation);
        return (int)StableHash.ComputeHash(bytes);
    }

    public System.Net.IPEndPoint ToEndPoint() => new(new System.Net.IPAddress(Ip), Port);
}

/// <summary>An Orleans message's direction (<c>Message.Directions</c>).</summary>
internal enum FrameDirection : byte
{
    None = 0,
    Request = 1,
    Response = 2,
    OneWay = 3,
}

/// <summary>The flags of an Orleans message the gate looks at (<c>Message.MessageFlags</c>).</summary>
[Flags]
internal enum FrameFlags : ushort
{
    None = 0,
    HasCacheInvalidationHeader = 1 << 7,
    IsLocalOnly = 1 << 9,
    Reserved = 1 << 15,
}

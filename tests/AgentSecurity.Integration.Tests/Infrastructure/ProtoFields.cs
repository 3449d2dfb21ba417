using Google.Protobuf;

namespace AgentSecurity.Integration.Tests.Infrastructure;

/// <summary>
/// The fields of one protobuf message, read with <see cref="CodedInputStream"/>: enough of the wire format to walk the
/// few OTLP messages the receiver needs without their generated classes. Nested messages stay bytes until read.
/// </summary>
internal sealed class ProtoFields
{
    private readonly List<(int Number, object Value)> _fields = [];

    public ProtoFields(ByteString message)
    {
        var input = message.CreateCodedInput();
        uint tag;
        while ((tag = input.ReadTag()) != 0)
        {
            var number = WireFormat.GetTagFieldNumber(tag);
            object value = WireFormat.GetTagWireType(tag) switch
            {
                WireFormat.WireType.Varint => input.ReadUInt64(),
                WireFormat.WireType.Fixed64 => input.ReadFixed64(),
                WireFormat.WireType.Fixed32 => input.ReadFixed32(),
                WireFormat.WireType.LengthDelimited => input.ReadBytes(),
                var other => throw new InvalidDataException($"wire type {other} of field {number} is not one OTLP uses"),
            };
            _fields.Add((number, value));
        }
    }

    public IEnumerable<ProtoFields> Messages(int number) =>
        _fields.Where(f => f.Number == number && f.Value is ByteString).Select(f => new ProtoFields((ByteString)f.Value));

    public ProtoFields? Message(int number) => Messages(number).FirstOrDefault();

    public ByteString Bytes(int number) => _fields.Where(f => f.Number == number).Select(f => f.Value).OfType<ByteString>().FirstOrDefault() ?? ByteString.Empty;

    public string Text(int number) => Bytes(number).ToStringUtf8();

    public ulong? Varint(int number) => _fields.Where(f => f.Number == number).Select(f => f.Value).OfType<ulong>().Cast<ulong?>().FirstOrDefault();

    public bool Has(int number) => _fields.Any(f => f.Number == number);
}

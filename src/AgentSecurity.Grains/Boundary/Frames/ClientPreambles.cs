using System.Buffers;
using System.Reflection;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Serialization;

namespace AgentSecurity.Grains.Boundary.Frames;

/// <summary>
/// Reads which client a gateway connection is from its preamble, the first thing a client writes (Orleans'
/// <c>ConnectionPreamble</c>, internal to Orleans, read with Orleans' own serializer). Resolved when the silo starts:
/// a silo whose Orleans no longer has the type does not start, rather than run a gateway without the gate.
/// </summary>
internal sealed class ClientPreambles
{
    /// <summary>Orleans refuses a longer preamble too.</summary>
    public const int MaxLength = 1024;

    private const string PreambleType = "Orleans.Runtime.Messaging.ConnectionPreamble";

    private static readonly System.Buffers.SearchValues<byte> LowerHexDigits = System.Buffers.SearchValues.Create("0123456789abcdef"u8);

    private readonly object _serializer;
    private readonly MethodInfo _deserialize;
    private readonly PropertyInfo _nodeIdentity;

    public ClientPreambles(IServiceProvider services)
    {
        var preamble = typeof(IClusterClient).Assembly.GetType(PreambleType, throwOnError: true)!;
        var serializerType = typeof(Serializer<>).MakeGenericType(preamble);
        _serializer = services.GetRequiredService(serializerType);
        _deserialize = serializerType.GetMethod(nameof(Serializer<object>.Deserialize), [typeof(ReadOnlySequence<byte>)])
            ?? throw new InvalidOperationException($"{serializerType} has no Deserialize(ReadOnlySequence<byte>)");
        _nodeIdentity = preamble.GetProperty("NodeIdentity") ?? throw new InvalidOperationException($"{PreambleType} has no NodeIdentity");
    }

    /// <summary>The client the preamble names; throws if it names none (Orleans closes such a connection as well).</summary>
    public ClientIdentity Read(ReadOnlySequence<byte> preamble)
    {
        var value = _deserialize.Invoke(_serializer, [preamble]);
        if (_nodeIdentity.GetValue(value) is not GrainId node || !IsClientOfItsOwn(node))
        {
            throw new InvalidDataException("a gateway connection's preamble names no client id of its own");
        }

        return new ClientIdentity(node.Type.AsSpan().ToArray(), node.Key.AsSpan().ToArray());
    }

    /// <summary>
    /// An id as an Orleans client makes its own (<c>ClientGrainId.Create()</c>: a random GUID's 32 hex digits). Not a
    /// silo's own client (<c>hosted-{silo}</c>, which a silo's HTTP endpoints and boundary lookups call through: the
    /// gateway would hand its answers to whoever claimed it), nor an observer's id.
    /// </summary>
    internal static bool IsClientOfItsOwn(GrainId node)
    {
        var key = node.Key.AsSpan();
        return node.Type.AsSpan().SequenceEqual(GrainTypePrefix.ClientGrainType.AsSpan())
            && key.Length == 32
            && !key.ContainsAnyExcept(LowerHexDigits)

            // Its hashes its bytes' (a client registered under another hash is a client no message reaches).
            && ClientOwnIds.HashesHold(node);
    }
}

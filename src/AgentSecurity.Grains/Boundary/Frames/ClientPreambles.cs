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
        if (_nodeIdentity.GetValue(value) is not GrainId node || !GrainTypePrefix.IsClient(node))
        {
            throw new InvalidDataException("a gateway connection's preamble names no client");
        }

        return new ClientIdentity(node.Type.AsSpan().ToArray(), node.Key.AsSpan().ToArray());
    }
}

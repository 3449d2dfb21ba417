namespace AgentSecurity.Grains.Boundary.Frames;

/// <summary>
/// What a client may send a gateway, frame by frame. Orleans' gateway forwards whatever a client writes: a response to
/// a call some grain is waiting on (completed by correlation id and grain, whoever sent it), a request in the name of
/// another grain or client (whose answer then completes that one's call), a cache update of the silo's directory. The
/// boundary's filter sees only requests, and only their method; these rules hold a client to its own name and to
/// answering only what it was asked, its calls to grains and to the silos of its cluster.
/// </summary>
internal static class ClientFrameRules
{
    private static ReadOnlySpan<byte> SystemTargetPrefix => "sys.svc."u8;

    /// <summary>Null if the client may send the frame, else why not (a <see cref="FrameRefusals"/> code).</summary>
    public static string? Judge(in FrameHeader header, ClientIdentity client, AwaitedAnswers awaited, ReachableSilos silos)
    {
        if (!header.HashesHold)
        {
            return FrameRefusals.ForgedHash;
        }

        if ((header.Flags & (FrameFlags.HasCacheInvalidationHeader | FrameFlags.IsLocalOnly | FrameFlags.Reserved)) != 0)
        {
            return FrameRefusals.SiloOnlyFlag;
        }

        if (!client.Owns(header.SendingType, header.SendingKey))
        {
            return FrameRefusals.ForgedSender;
        }

        return header.Direction switch
        {
            FrameDirection.Request or FrameDirection.OneWay => JudgeCall(header, client, silos),
            FrameDirection.Response => awaited.TryTake(header.Id, header.TargetType, header.TargetKey) ? null : FrameRefusals.UnaskedResponse,
            _ => FrameRefusals.NoDirection,
        };
    }

    private static string? JudgeCall(in FrameHeader header, ClientIdentity client, ReachableSilos silos)
    {
        // Another client or its observer: the silo would route the call to it (the boundary's filter lets calls to
        // observers pass, as the silo's own parts make them). An Orleans client calls only grains and silos.
        if (ClientIdentity.IsClientType(header.TargetType) && !client.Owns(header.TargetType, header.TargetKey))
        {
            return FrameRefusals.ClientTarget;
        }

        // A system target is addressed on a silo the client names, and the gateway forwards it there (Orleans trusts that
        // address): only this gateway or a silo of the cluster's membership, not any endpoint the silo would dial for the client.
        if (header.TargetType.StartsWith(SystemTargetPrefix) && !silos.Reaches(header.TargetSilo))
        {
            return FrameRefusals.UnknownSilo;
        }

        return null;
    }
}

/// <summary>Why the gateway dropped a client's frame: the reason on the log line and the metric.</summary>
internal static class FrameRefusals
{
    /// <summary>A response to no request the silo sent this client: an attempt to answer another's call.</summary>
    public const string UnaskedResponse = "unasked_response";

    /// <summary>A message in the name of a grain or client other than the one the connection proved at its start.</summary>
    public const string ForgedSender = "forged_sender";

    /// <summary>A flag only silos set (a directory cache update, local-only delivery).</summary>
    public const string SiloOnlyFlag = "silo_only_flag";

    /// <summary>Neither a request, a one-way message nor a response.</summary>
    public const string NoDirection = "no_direction";

    /// <summary>A grain id whose hash is not its bytes' (to Orleans' directory, a second grain of the same id), or a silo address's.</summary>
    public const string ForgedHash = "forged_hash";

    /// <summary>A call to another client or to another client's observer.</summary>
    public const string ClientTarget = "client_target";

    /// <summary>A call to a system target on a silo that is neither this gateway nor a silo of the cluster's membership.</summary>
    public const string UnknownSilo = "unknown_silo";

    /// <summary>
    /// Whether a frame refused for <paramref name="reason"/> ends its connection. An Orleans client never writes a forged
    /// name, hash or flag, nor calls another client; it may answer a request late (after the gate forgot it), or address a
    /// silo that just left the cluster, which is dropped alone.
    /// </summary>
    public static bool EndsTheConnection(string reason) => reason is not (UnaskedResponse or UnknownSilo);
}

/// <summary>
/// The client a gateway connection belongs to, as its preamble names it: its own messages, and its observers' answers,
/// come from its id or from an observer id (the client's key, a '+', the observer's key).
/// </summary>
internal sealed class ClientIdentity(byte[] type, byte[] key)
{
    /// <summary>The longest id of the client's own: its key, a '+', an observer's (Orleans makes 32 and 32 characters).</summary>
    public const int MaxOwnKeyLength = 256;

    public static bool IsClientType(ReadOnlySpan<byte> grainType) => grainType.SequenceEqual(GrainTypePrefix.ClientGrainType.AsSpan());

    public bool Owns(ReadOnlySpan<byte> grainType, ReadOnlySpan<byte> grainKey) =>
        grainKey.Length <= MaxOwnKeyLength && grainType.SequenceEqual(type) && ClientOwnIds.IsSelfOrObserver(key, grainKey);

    public override string ToString() => $"{System.Text.Encoding.UTF8.GetString(type)}/{System.Text.Encoding.UTF8.GetString(key)}";
}

namespace AgentSecurity.Grains.Boundary;

/// <summary>
/// What a client may name in a call's arguments: only itself and its own observers. Orleans takes a grain id from a
/// message as written, its hash too, and acts on it for the caller: the cancellation extension cancels the queued call of
/// whichever sender it names, and a grain calls back whatever observer it is handed (another client's, delivering to it;
/// its own under another hash, whose answers its gateway then refuses as forged).
/// </summary>
internal static class ClientOwnIds
{
    private const string CancellationExtension = "Orleans.Runtime.IGrainCallCancellationExtension";

    /// <summary>
    /// Whether <paramref name="named"/> is the caller itself, or, for a client, one of its observers (the client's key, a
    /// '+', the observer's), with the hashes of its bytes.
    /// </summary>
    public static bool IsOwn(GrainId? caller, GrainId named) =>
        caller is { } id && named.Type == id.Type && HashesHold(named)
        && (GrainTypePrefix.IsClient(in id) ? IsSelfOrObserver(id.Key.AsSpan(), named.Key.AsSpan()) : named.Key.Equals(id.Key));

    /// <summary>Whether <paramref name="named"/> is an observer of the client <paramref name="caller"/>: what it may be called back on.</summary>
    public static bool IsOwnObserver(GrainId? caller, GrainId named) =>
        caller is { } id && GrainTypePrefix.IsClient(in id) && IsOwn(id, named) && named.Key.AsSpan().Length > id.Key.AsSpan().Length;

    /// <summary>A call of Orleans' cancellation extension naming a sender other than its caller: a cancellation of another's call.</summary>
    public static bool CancelsAnothersCall(System.Reflection.MethodInfo? method, object? sender, GrainId? caller) =>
        method?.DeclaringType?.FullName == CancellationExtension && !(sender is GrainId named && IsOwn(caller, named));

    /// <summary>Whether the hashes Orleans keeps beside an id's type and key are those of their bytes.</summary>
    public static bool HashesHold(GrainId id) =>
        id.Type.GetHashCode() == (int)StableHash.ComputeHash(id.Type.AsSpan())
        && id.Key.GetHashCode() == (int)StableHash.ComputeHash(id.Key.AsSpan());

    /// <summary>Whether the key <paramref name="named"/> is the client key <paramref name="client"/> or an observer's of it (the key, a '+', the observer's).</summary>
    public static bool IsSelfOrObserver(ReadOnlySpan<byte> client, ReadOnlySpan<byte> named) =>
        named.StartsWith(client) && (named.Length == client.Length || (named.Length > client.Length + 1 && named[client.Length] == (byte)'+'));
}

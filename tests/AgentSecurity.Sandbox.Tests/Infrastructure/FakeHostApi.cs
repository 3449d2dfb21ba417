using System.Collections.Concurrent;
using AgentSecurity.Grants;
using AgentSecurity.Sandbox.Host;

namespace AgentSecurity.Sandbox.Tests.Infrastructure;

/// <summary>
/// The kernel's side of the host API for runtime tests: operations are allowed only when listed in
/// <see cref="Allowed"/> (denied <c>capability_not_granted</c> otherwise), files and memory live in dictionaries,
/// other operations answer fixed texts, and every call is recorded. The real host API (checks on the agent grain)
/// is tested in the grain and integration tests.
/// </summary>
public sealed class FakeHostApi : IHostApi
{
    public HashSet<string> Allowed { get; } = new(StringComparer.Ordinal);

    public ConcurrentDictionary<string, string> Files { get; } = new(StringComparer.Ordinal);

    public ConcurrentDictionary<string, string> Memory { get; } = new(StringComparer.Ordinal);

    public ConcurrentQueue<HostCall> Calls { get; } = new();

    /// <summary>Called before each call is answered, e.g. to block or to count.</summary>
    public Action<HostCall>? OnCall { get; set; }

    public static FakeHostApi AllowingEverything()
    {
        var host = new FakeHostApi();
        host.Allowed.UnionWith(HostCall.Operations);
        return host;
    }

    public ValueTask<HostReply> CallAsync(HostCall call) => ValueTask.FromResult(Answer(call));

    private HostReply Answer(HostCall call)
    {
        Calls.Enqueue(call);
        OnCall?.Invoke(call);
        if (!Allowed.Contains(call.Operation))
        {
            return HostReply.Fail(ReasonCodes.CapabilityNotGranted, $"{call.Operation} is not granted") with { Denied = true };
        }

        return call.Operation switch
        {
            HostCall.FsRead => Files.TryGetValue(call.Argument ?? string.Empty, out var text) ? HostReply.Success(text) : HostReply.Fail("not_found", $"no file {call.Argument}"),
            HostCall.FsWrite => Write(Files, call),
            HostCall.MemoryGet => HostReply.Success(Memory.GetValueOrDefault(call.Argument ?? string.Empty)),
            HostCall.MemoryPut => Write(Memory, call),
            HostCall.MemoryDelete => HostReply.Success(Memory.TryRemove(call.Argument ?? string.Empty, out _) ? "true" : "false"),
            HostCall.HttpFetch => HostReply.Success($"fetched {call.Argument}"),
            HostCall.LlmComplete => HostReply.Success($"completion of {call.Argument}"),
            HostCall.VectorDbQuery => HostReply.Success("[]"),
            _ => HostReply.Fail(ReasonCodes.InvalidRequest, $"unknown operation {call.Operation}"),
        };
    }

    private static HostReply Write(ConcurrentDictionary<string, string> store, HostCall call)
    {
        store[call.Argument ?? string.Empty] = call.Second ?? string.Empty;
        return HostReply.Success();
    }
}

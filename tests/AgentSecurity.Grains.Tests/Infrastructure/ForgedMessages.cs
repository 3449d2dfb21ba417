using System.Collections;
using System.Reflection;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Serialization.Invocation;

namespace AgentSecurity.Grains.Tests.Infrastructure;

/// <summary>
/// A hostile client's tools, through a real Orleans client's internals: the Orleans client sends any message its caller
/// builds, so a client process can write any frame to a gateway. The tests play an attacker that has guessed a waiting
/// call's correlation id (a silo's or another client's: a random seed XOR a counter, and observers see silo-made ids) by
/// reading it from the victim's client.
/// </summary>
internal static class ForgedMessages
{
    private const BindingFlags Members = BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic;

    private static readonly Assembly Core = typeof(IClusterClient).Assembly;
    private static readonly Type RuntimeClient = Core.GetType("Orleans.OutsideRuntimeClient", throwOnError: true)!;
    private static readonly Type Message = Core.GetType("Orleans.Runtime.Message", throwOnError: true)!;

    /// <summary>The correlation id and the caller of a call the client <paramref name="client"/> waits on, to a grain whose key contains <paramref name="key"/>.</summary>
    public static async Task<(object Id, GrainId Caller)> WaitingCallAsync(IServiceProvider client, string key)
    {
        var runtime = client.GetRequiredService(RuntimeClient);
        var callbacks = (IEnumerable)RuntimeClient.GetField("callbacks", Members)!.GetValue(runtime)!;
        using var limit = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        while (true)
        {
            foreach (var entry in callbacks)
            {
                var message = Get(Get(entry, "Value")!, "Message")!;
                if (((GrainId)Get(message, "TargetGrain")!).Key.ToString().Contains(key, StringComparison.Ordinal))
                {
                    return (Get(entry, "Key")!, (GrainId)Get(message, "SendingGrain")!);
                }
            }

            // The call is registered once the client's outgoing filters have run: a condition polled, not a fixed wait.
            await Task.Delay(TimeSpan.FromMilliseconds(10), limit.Token);
        }
    }

    /// <summary>Sends, from the client <paramref name="client"/> and in its own name, a response to <paramref name="to"/>'s call <paramref name="id"/>.</summary>
    public static void SendResponse<T>(IServiceProvider client, object id, GrainId to, T result)
    {
        var runtime = client.GetRequiredService(RuntimeClient);
        var message = Activator.CreateInstance(Message)!;
        Set(message, "Direction", Enum.ToObject(Message.GetNestedType("Directions")!, 2));
        Set(message, "Id", id);
        Set(message, "SendingGrain", ((GrainAddress)Get(runtime, "CurrentActivationAddress")!).GrainId);
        Set(message, "TargetGrain", to);
        Set(message, "BodyObject", Response.FromResult(result));
        var center = Get(runtime, "MessageCenter")!;
        center.GetType().GetMethod("SendMessage", Members, [Message])!.Invoke(center, [message]);
    }

    /// <summary>
    /// Sends, from the client <paramref name="client"/> and in its own name, a request to the system target
    /// <paramref name="type"/> on the silo <paramref name="silo"/>, as Orleans' client addresses one (the target silo in the
    /// message, which the gateway trusts for system targets and forwards to).
    /// </summary>
    public static void SendToSystemTarget(IServiceProvider client, GrainType type, SiloAddress silo)
    {
        var runtime = client.GetRequiredService(RuntimeClient);
        var message = Activator.CreateInstance(Message)!;
        Set(message, "Direction", Enum.ToObject(Message.GetNestedType("Directions")!, 3));
        Set(message, "Id", Activator.CreateInstance(Core.GetType("Orleans.Runtime.CorrelationId", throwOnError: true)!, [42L]));
        Set(message, "SendingGrain", ((GrainAddress)Get(runtime, "CurrentActivationAddress")!).GrainId);
        Set(message, "TargetGrain", SystemTargetGrainId.Create(type, silo).GrainId);
        Set(message, "TargetSilo", silo);
        Set(message, "BodyObject", "probe");
        var center = Get(runtime, "MessageCenter")!;
        center.GetType().GetMethod("SendMessage", Members, [Message])!.Invoke(center, [message]);
    }

    private static object? Get(object target, string name) =>
        (object?)target.GetType().GetProperty(name, Members)?.GetValue(target) ?? target.GetType().GetField(name, Members)?.GetValue(target);

    private static void Set(object target, string name, object? value) => target.GetType().GetProperty(name, Members)!.SetValue(target, value);
}

using System.Collections.Concurrent;
using AgentSecurity.Abstractions;

namespace AgentSecurity.Grains.Tests.Infrastructure;

/// <summary>
/// Sees the checks the test silos send to agents' grains (a host call's check that its execution's local path did not
/// decide is one): a marker that such a check is on its way, for a test to wait on instead of sleeping. It only looks;
/// every call goes on unchanged.
/// </summary>
public static class AgentCheckWatch
{
    private static readonly ConcurrentDictionary<string, TaskCompletionSource<CheckRequest>> Next = new(StringComparer.Ordinal);

    /// <summary>Completes with the next check a silo sends to an agent of the tenant after this call.</summary>
    public static Task<CheckRequest> NextAsync(string tenant) =>
        Next.GetOrAdd(tenant, _ => new TaskCompletionSource<CheckRequest>(TaskCreationOptions.RunContinuationsAsynchronously)).Task;

    /// <summary>The silos' outgoing call filter.</summary>
    public static Task InvokeAsync(IOutgoingGrainCallContext context)
    {
        if (!Next.IsEmpty
            && context.InterfaceMethod?.Name == nameof(IAgentGrain.CheckAsync)
            && context.Request.GetArgument(0) is CheckRequest request
            && context.TargetId.Key.ToString() is var key
            && key.IndexOf('/', StringComparison.Ordinal) is > 0 and var slash
            && Next.TryRemove(key[..slash], out var next))
        {
            next.TrySetResult(request);
        }

        return context.Invoke();
    }
}

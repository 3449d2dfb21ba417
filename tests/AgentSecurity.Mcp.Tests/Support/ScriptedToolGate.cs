using System.Collections.Concurrent;
using AgentSecurity.Abstractions;
using AgentSecurity.Abstractions.Tools;
using AgentSecurity.Grants;
using AgentSecurity.Mcp.Gate;

namespace AgentSecurity.Mcp.Tests.Support;

/// <summary>
/// A gate with fixed answers. These tests are about the gateway's own behaviour (what it lists, asks, forwards and
/// refuses against real upstream servers); the grain's decisions are tested in the grain and integration tests, so here
/// a scripted gate stands in for it and records what the gateway asked.
/// </summary>
internal sealed class ScriptedToolGate : IToolGate
{
    /// <summary>The tools <c>server/tool</c> the "grant" gives; null gives every tool.</summary>
    public HashSet<string>? Granted { get; init; }

    /// <summary>The folder file checks must stay inside (with a trailing slash); null allows any path.</summary>
    public string? FileScope { get; init; }

    /// <summary>Folders whose reading the "grant" refuses, with everything below them (as if its scopes left them out).</summary>
    public IReadOnlyList<string> Unreadable { get; init; } = [];

    /// <summary>Runs while a call is being decided, before the answer (to crash an upstream at that moment).</summary>
    public Action<ToolCall>? OnCheck { get; set; }

    public ConcurrentQueue<ToolCall> Calls { get; } = new();

    public ConcurrentQueue<IReadOnlyList<ToolListing>> Listings { get; } = new();

    /// <summary>Every check <see cref="SelectAllowedAsync"/> was asked about.</summary>
    public ConcurrentQueue<CheckRequest> Selected { get; } = new();

    /// <summary>When set, what <see cref="SelectAllowedAsync"/> answers instead (a grain that answers wrongly).</summary>
    public Func<IReadOnlyList<CheckRequest>, bool[]>? SelectAnswer { get; init; }

    public TaskCompletionSource<(ToolListing Before, ToolListing After)> Changed { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public Task<bool[]> SelectVisibleToolsAsync(IReadOnlyList<ToolListing> tools, CancellationToken cancellationToken)
    {
        Listings.Enqueue(tools);
        return Task.FromResult(tools.Select(t => IsGranted(t.Tool)).ToArray());
    }

    public Task<bool[]> SelectAllowedAsync(IReadOnlyList<CheckRequest> checks, CancellationToken cancellationToken)
    {
        foreach (var check in checks)
        {
            Selected.Enqueue(check);
        }

        return Task.FromResult(SelectAnswer?.Invoke(checks) ?? [.. checks.Select(c => InScope(c.Resource))]);
    }

    public Task<ToolCallDecision> CheckToolCallAsync(ToolCall toolCall, CancellationToken cancellationToken)
    {
        Calls.Enqueue(toolCall);
        OnCheck?.Invoke(toolCall);
        if (!IsGranted(toolCall.Tool))
        {
            return Answer(Decision.Deny(ReasonCodes.CapabilityNotGranted, $"{toolCall.Tool} is not granted"));
        }

        foreach (var resource in toolCall.Resources)
        {
            if (!InScope(resource.Resource))
            {
                return Answer(Decision.Deny(ReasonCodes.OutOfScope, $"{resource.Resource} is outside fileSystem scopes"), resource);
            }
        }

        return Answer(new Decision { Allowed = true, Reason = ReasonCodes.Allowed, Message = "allowed" });
    }

    public Task RecordToolChangedAsync(ToolListing before, ToolListing after, CancellationToken cancellationToken)
    {
        Changed.TrySetResult((before, after));
        return Task.CompletedTask;
    }

    private bool InScope(string? path) =>
        (FileScope is null || (path ?? string.Empty).StartsWith(FileScope, StringComparison.Ordinal))
        && !Unreadable.Any(u => path == u || (path ?? string.Empty).StartsWith(u + "/", StringComparison.Ordinal));

    private bool IsGranted(string tool) => Granted is null || Granted.Contains(tool);

    private static Task<ToolCallDecision> Answer(Decision decision, CheckRequest? refusedBy = null) =>
        Task.FromResult(new ToolCallDecision { Decision = decision, RefusedBy = refusedBy });
}

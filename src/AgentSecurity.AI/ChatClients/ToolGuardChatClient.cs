using System.Runtime.CompilerServices;
using AgentSecurity.Abstractions.Tools;
using AgentSecurity.AI.Guard;
using AgentSecurity.AI.Telemetry;
using AgentSecurity.AI.Tools;
using AgentSecurity.Grants;
using AgentSecurity.Grants.Tools;
using Microsoft.Extensions.AI;

namespace AgentSecurity.AI.ChatClients;

/// <summary>
/// The guard's outer part, in front of the function-invoking client: puts every function of a request under the grant
/// (<see cref="GuardedFunction"/>), marks which the model may be shown (the grain's <c>SelectVisibleTools</c>), turns
/// the tools the grant gives only with a person's approval into <see cref="ApprovalRequiredAIFunction"/>s, and gives each
/// approval request the library returns the kernel's permission request (recorded by the grain's check of that call).
/// Tools that are not functions (hosted tools run by the provider) cannot be checked per call and are removed.
/// </summary>
internal sealed class ToolGuardChatClient(IChatClient inner, AgentGuard guard) : DelegatingChatClient(inner)
{
    public override async Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
    {
        var (guarded, functions) = await GuardToolsAsync(options, cancellationToken).ConfigureAwait(false);
        var response = await base.GetResponseAsync(messages, guarded, cancellationToken).ConfigureAwait(false);
        foreach (var message in response.Messages)
        {
            await AnnotateApprovalsAsync(message.Contents, functions, cancellationToken).ConfigureAwait(false);
        }

        Settle(response.Messages.SelectMany(m => m.Contents));
        return response;
    }

    public override async IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var (guarded, functions) = await GuardToolsAsync(options, cancellationToken).ConfigureAwait(false);

        // A call is held back until its result has passed too, so that one this pipeline did not invoke leaves it settled.
        var held = new List<ChatResponseUpdate>();
        var open = new HashSet<string>(StringComparer.Ordinal);
        await foreach (var update in base.GetStreamingResponseAsync(messages, guarded, cancellationToken).ConfigureAwait(false))
        {
            await AnnotateApprovalsAsync(update.Contents, functions, cancellationToken).ConfigureAwait(false);
            open.UnionWith(update.Contents.OfType<FunctionCallContent>().Where(c => !c.InformationalOnly).Select(c => c.CallId));
            open.ExceptWith(update.Contents.OfType<FunctionResultContent>().Select(r => r.CallId));
            if (open.Count > 0)
            {
                held.Add(update);
                continue;
            }

            foreach (var earlier in held)
            {
                yield return earlier;
            }

            held.Clear();
            yield return update;
        }

        Settle(held.SelectMany(u => u.Contents));
        foreach (var update in held)
        {
            yield return update;
        }
    }

    /// <summary>
    /// Marks the calls this pipeline's function invocation did not answer (its iteration limit ended the loop) as
    /// informational: a function-invoking client in front of the guard would otherwise invoke them, unchecked, with the
    /// caller's own functions.
    /// </summary>
    private static void Settle(IEnumerable<AIContent> contents)
    {
        var all = contents.ToList();
        var answered = all.OfType<FunctionResultContent>().Select(r => r.CallId).ToHashSet(StringComparer.Ordinal);
        foreach (var call in all.OfType<FunctionCallContent>().Where(c => !answered.Contains(c.CallId)))
        {
            call.InformationalOnly = true;
        }
    }

    /// <summary>A copy of the options whose tools are all guarded functions; the caller's options are left as they were.</summary>
    private async Task<(ChatOptions?, Dictionary<string, GuardedFunction>)> GuardToolsAsync(ChatOptions? options, CancellationToken cancellationToken)
    {
        var byName = new Dictionary<string, GuardedFunction>(StringComparer.Ordinal);
        if (options?.Tools is not { Count: > 0 } tools)
        {
            return (options, byName);
        }

        var functions = new List<AIFunction>();
        foreach (var tool in tools)
        {
            if (tool is AIFunction function)
            {
                functions.Add(function);
            }
            else
            {
                Log.ToolNotAFunction(guard.Logger, guard.Agent, tool.Name);
            }
        }

        var names = functions.Select(f => guard.ToolOf(f.Name)).ToList();
        var listed = names.Where(ToolNames.IsTool).Select(n => new ToolListing(n, null)).ToList();
        var visible = await guard.SelectVisibleAsync(listed, cancellationToken).ConfigureAwait(false);
        var shown = visible.Length == listed.Count
            ? listed.Zip(visible).Where(v => v.Second).Select(v => v.First.Tool).ToHashSet(StringComparer.Ordinal)
            : [];

        var guarded = new List<AITool>(functions.Count);
        for (var i = 0; i < functions.Count; i++)
        {
            var offered = shown.Contains(names[i]);
            var function = new GuardedFunction(functions[i], guard, offered);
            byName[functions[i].Name] = function;
            guarded.Add(offered && await guard.NeedsApprovalAsync(names[i], cancellationToken).ConfigureAwait(false)
                ? new ApprovalRequiredAIFunction(function)
                : function);
        }

        var copy = options.Clone();
        copy.Tools = guarded;
        return (copy, byName);
    }

    /// <summary>
    /// Asks the grain about each call the library holds for a person's approval: the grain records the permission request
    /// that person answers (an elevation) and the request carries its id. Approving in the application alone runs nothing:
    /// the call is checked again when invoked, and runs once the kernel's request has been answered.
    /// </summary>
    private async Task AnnotateApprovalsAsync(IList<AIContent> contents, Dictionary<string, GuardedFunction> functions, CancellationToken cancellationToken)
    {
        foreach (var request in contents.OfType<ToolApprovalRequestContent>())
        {
            if (request.ToolCall is not FunctionCallContent call || !functions.TryGetValue(call.Name, out var function))
            {
                continue;
            }

            var decided = await function.DecideAsync(new AIFunctionArguments(call.Arguments), cancellationToken).ConfigureAwait(false);
            request.AdditionalProperties ??= [];
            request.AdditionalProperties[Refusals.ReasonProperty] = decided.Decision.Reason;
            if (decided.RequestId is { } id)
            {
                request.AdditionalProperties[Refusals.RequestIdProperty] = id;
            }

            if (decided.Decision.Reason != ReasonCodes.Allowed)
            {
                Log.ToolRefused(guard.Logger, guard.Agent, function.Tool, decided.Decision.Reason);
            }
        }
    }
}

using System.Runtime.CompilerServices;
using AgentSecurity.Abstractions;
using AgentSecurity.AI.Guard;
using AgentSecurity.AI.Telemetry;
using Microsoft.Agents.AI;
using Microsoft.Extensions.AI;

namespace AgentSecurity.AI.Agents;

/// <summary>
/// A Microsoft Agent Framework agent under its grant. A run starts only if the agent may act at all (not quarantined or
/// suspended, with a grant in force): otherwise the whole run is refused with one assistant message <c>reason: message</c>
/// and nothing reaches the model or a tool. Each run's chat client is put under the guard
/// (<see cref="ChatClientAgentRunOptions.ChatClientFactory"/>), so its tool and model calls are checked as
/// <c>UseAgentSecurity</c> checks a chat client's.
/// </summary>
internal sealed class GuardedAgent : DelegatingAIAgent
{
    private readonly AgentGuard _guard;
    private readonly Func<IChatClient, IChatClient> _guardClient;

    public GuardedAgent(AIAgent inner, AgentGuard guard, Func<IChatClient, IChatClient> guardClient)
        : base(inner)
    {
        // Only a chat-client agent lets the guard reach its model and tool calls; any other would run them unchecked.
        if (inner.GetService<ChatClientAgent>() is null)
        {
            throw new InvalidOperationException($"UseAgentSecurity guards a ChatClientAgent (or an agent built over one); {inner.GetType().Name} is not one, so its tool and model calls could not be checked");
        }

        _guard = guard;
        _guardClient = guardClient;
    }

    protected override async Task<AgentResponse> RunCoreAsync(IEnumerable<ChatMessage> messages, AgentSession? session = null, AgentRunOptions? options = null, CancellationToken cancellationToken = default)
    {
        var standing = await _guard.CheckStandingAsync(cancellationToken).ConfigureAwait(false);
        if (!standing.Allowed)
        {
            Log.RunRefused(_guard.Logger, _guard.Agent, standing.Reason);
            return new AgentResponse(Refusal(standing)) { AdditionalProperties = Reason(standing) };
        }

        return await InnerAgent.RunAsync(messages, session, Guarded(options), cancellationToken).ConfigureAwait(false);
    }

    protected override async IAsyncEnumerable<AgentResponseUpdate> RunCoreStreamingAsync(IEnumerable<ChatMessage> messages, AgentSession? session = null, AgentRunOptions? options = null, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var standing = await _guard.CheckStandingAsync(cancellationToken).ConfigureAwait(false);
        if (!standing.Allowed)
        {
            Log.RunRefused(_guard.Logger, _guard.Agent, standing.Reason);
            yield return new AgentResponseUpdate(ChatRole.Assistant, Refusals.Text(standing)) { AdditionalProperties = Reason(standing) };
            yield break;
        }

        await foreach (var update in InnerAgent.RunStreamingAsync(messages, session, Guarded(options), cancellationToken).ConfigureAwait(false))
        {
            yield return update;
        }
    }

    /// <summary>The run's options with the guard around its chat client (after any factory of the caller's own).</summary>
    private ChatClientAgentRunOptions Guarded(AgentRunOptions? options)
    {
        var run = options switch
        {
            ChatClientAgentRunOptions chat => (ChatClientAgentRunOptions)chat.Clone(),
            null => new ChatClientAgentRunOptions(),
            _ => throw new ArgumentException($"a guarded agent runs with ChatClientAgentRunOptions (or none), not {options.GetType().Name}", nameof(options)),
        };
        var theirs = run.ChatClientFactory;
        run.ChatClientFactory = client => _guardClient(theirs is null ? client : theirs(client));
        return run;
    }

    private static ChatMessage Refusal(Decision decision) =>
        new(ChatRole.Assistant, Refusals.Text(decision)) { AdditionalProperties = Reason(decision) };

    private static AdditionalPropertiesDictionary Reason(Decision decision) => new() { [Refusals.ReasonProperty] = decision.Reason };
}

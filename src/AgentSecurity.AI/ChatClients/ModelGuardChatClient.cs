using System.Runtime.CompilerServices;
using AgentSecurity.Abstractions;
using AgentSecurity.AI.Guard;
using AgentSecurity.AI.Telemetry;
using AgentSecurity.AI.Tools;
using AgentSecurity.Grants;
using Microsoft.Extensions.AI;

namespace AgentSecurity.AI.ChatClients;

/// <summary>
/// The guard's inner part, between the function-invoking client and the model: each model call shows the model only the
/// functions the grant gives, is checked as <c>llm</c> before it runs (refused once <c>llmTokensPerHour</c> is spent) and
/// charged what it really used after (<see cref="IAgentGrain.ChargeUsageAsync"/>). A refused call answers with an
/// assistant message <c>reason: message</c> and the reason under <see cref="Refusals.ReasonProperty"/>; the model is not called.
/// </summary>
internal sealed class ModelGuardChatClient(IChatClient inner, AgentGuard guard) : DelegatingChatClient(inner)
{
    public override async Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
    {
        var model = ModelOf(options);
        var admitted = await guard.CheckAsync(CheckRequests.Llm(model, guard.Options.TokensCheckedBeforeCall), cancellationToken).ConfigureAwait(false);
        if (!admitted.Allowed)
        {
            Log.ModelRefused(guard.Logger, guard.Agent, admitted.Reason);
            var refusal = new ChatMessage(ChatRole.Assistant, Refusals.Text(admitted)) { AdditionalProperties = Reason(admitted) };
            return new ChatResponse(refusal) { FinishReason = ChatFinishReason.Stop, AdditionalProperties = Reason(admitted) };
        }

        var response = await base.GetResponseAsync(messages, Offered(options), cancellationToken).ConfigureAwait(false);
        await ChargeAsync(model, response.Usage, cancellationToken).ConfigureAwait(false);
        return response;
    }

    public override async IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var model = ModelOf(options);
        var admitted = await guard.CheckAsync(CheckRequests.Llm(model, guard.Options.TokensCheckedBeforeCall), cancellationToken).ConfigureAwait(false);
        if (!admitted.Allowed)
        {
            Log.ModelRefused(guard.Logger, guard.Agent, admitted.Reason);
            yield return new ChatResponseUpdate(ChatRole.Assistant, Refusals.Text(admitted)) { FinishReason = ChatFinishReason.Stop, AdditionalProperties = Reason(admitted) };
            yield break;
        }

        UsageDetails? usage = null;
        try
        {
            await foreach (var update in base.GetStreamingResponseAsync(messages, Offered(options), cancellationToken).ConfigureAwait(false))
            {
                foreach (var reported in update.Contents.OfType<UsageContent>())
                {
                    (usage ??= new()).Add(reported.Details);
                }

                yield return update;
            }
        }
        finally
        {
            // Charged however the stream ended: a stream read only in part still used tokens (unreported: the whole budget).
            await ChargeAsync(model, usage, CancellationToken.None).ConfigureAwait(false);
        }
    }

    private string ModelOf(ChatOptions? options) =>
        options?.ModelId is { Length: > 0 } id && !string.IsNullOrWhiteSpace(id) ? id
        : InnerClient.GetService<ChatClientMetadata>()?.DefaultModelId is { Length: > 0 } model && !string.IsNullOrWhiteSpace(model) ? model
        : guard.Options.Model;

    /// <summary>The options with only the functions the grant gives; any other tool (not guarded) is removed.</summary>
    private static ChatOptions? Offered(ChatOptions? options)
    {
        if (options?.Tools is not { Count: > 0 } tools)
        {
            return options;
        }

        var copy = options.Clone();
        var offered = tools.Where(t => t.GetService<GuardedFunction>() is { Offered: true }).ToList();
        copy.Tools = offered.Count > 0 ? offered : null;
        if (offered.Count == 0)
        {
            copy.ToolMode = null;
        }

        return copy;
    }

    /// <summary>Charges what the call used beyond what its check metered; a usage missing or negative is sent as missing.</summary>
    private async Task ChargeAsync(string model, UsageDetails? usage, CancellationToken cancellationToken)
    {
        var total = usage?.TotalTokenCount ?? (usage?.InputTokenCount is { } input && usage.OutputTokenCount is { } output ? input + output : null);
        long? beyond = total is >= 0 ? Math.Max(0, total.Value - guard.Options.TokensCheckedBeforeCall) : null;
        if (beyond == 0)
        {
            return; // the check metered it all
        }

        if (beyond is null)
        {
            Log.UsageUnreported(guard.Logger, guard.Agent, model);
        }

        var charged = await guard.ChargeUsageAsync(new CheckRequest(Capabilities.Llm, model, beyond), cancellationToken).ConfigureAwait(false);
        if (!charged.Allowed)
        {
            Log.UsageNotCharged(guard.Logger, guard.Agent, charged.Reason, charged.Message);
        }
    }

    private static AdditionalPropertiesDictionary Reason(Decision decision) => new() { [Refusals.ReasonProperty] = decision.Reason };
}

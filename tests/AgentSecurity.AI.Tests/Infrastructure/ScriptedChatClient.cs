using Microsoft.Extensions.AI;

namespace AgentSecurity.AI.Tests.Infrastructure;

/// <summary>
/// A model that answers from a script (no model is reachable in tests): each call takes the next step, and records what
/// it was shown. The last step repeats, so a model that "keeps asking" is one step.
/// </summary>
public sealed class ScriptedChatClient(params Func<ScriptedChatClient, ChatResponse>[] steps) : IChatClient
{
    private int _calls;

    /// <summary>The names of the tools each call offered the model, in call order.</summary>
    public List<string[]> Offered { get; } = [];

    /// <summary>The messages each call was sent.</summary>
    public List<ChatMessage[]> Sent { get; } = [];

    public int CallCount => _calls;

    public Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
    {
        Offered.Add(options?.Tools?.Select(t => t.Name).ToArray() ?? []);
        Sent.Add([.. messages]);
        var step = steps[Math.Min(_calls, steps.Length - 1)];
        _calls++;
        return Task.FromResult(step(this));
    }

    public async IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        foreach (var update in (await GetResponseAsync(messages, options, cancellationToken)).ToChatResponseUpdates())
        {
            yield return update;
        }
    }

    public object? GetService(Type serviceType, object? serviceKey = null) =>
        serviceType == typeof(ChatClientMetadata) ? new ChatClientMetadata("scripted", defaultModelId: "scripted-1") : null;

    public void Dispose()
    {
    }

    /// <summary>A step that asks for <paramref name="function"/> with <paramref name="arguments"/>.</summary>
    public static Func<ScriptedChatClient, ChatResponse> Calls(string function, object? arguments = null, long? tokens = 10) => model =>
        new ChatResponse(new ChatMessage(ChatRole.Assistant, [new FunctionCallContent($"call-{model.CallCount}", function, Arguments(arguments))]))
        {
            Usage = tokens is null ? null : new UsageDetails { TotalTokenCount = tokens },
        };

    /// <summary>A step that answers <paramref name="text"/>.</summary>
    public static Func<ScriptedChatClient, ChatResponse> Says(string text, long? tokens = 10) => _ =>
        new ChatResponse(new ChatMessage(ChatRole.Assistant, text)) { Usage = tokens is null ? null : new UsageDetails { TotalTokenCount = tokens } };

    private static Dictionary<string, object?> Arguments(object? arguments) =>
        arguments is null ? [] : System.Text.Json.JsonSerializer.SerializeToElement(arguments).EnumerateObject().ToDictionary(p => p.Name, p => (object?)p.Value);
}

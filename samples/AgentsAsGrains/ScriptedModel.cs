using Microsoft.Extensions.AI;

namespace AgentsAsGrains;

/// <summary>
/// Stands in for a model (none is reachable here): asks for four tools in turn, then answers. Each answer reports the
/// tokens it used, as a real provider's does.
/// </summary>
public sealed class ScriptedModel : IChatClient
{
    private static readonly (string Function, Dictionary<string, object?> Arguments)[] Asks =
    [
        ("get_weather", new() { ["city"] = "Oslo" }),
        ("read_file", new() { ["path"] = "/workspace/notes.txt" }),
        ("read_file", new() { ["path"] = "/etc/passwd" }),
        ("delete_repo", new() { ["repo"] = "acme/prod" }),
    ];

    public Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
    {
        // The next tool to ask for is the one after as many results as the conversation holds.
        var asked = messages.SelectMany(m => m.Contents).OfType<FunctionResultContent>().Count();
        var message = asked < Asks.Length
            ? new ChatMessage(ChatRole.Assistant, [new FunctionCallContent($"call-{asked}", Asks[asked].Function, Asks[asked].Arguments)])
            : new ChatMessage(ChatRole.Assistant, "Done.");
        return Task.FromResult(new ChatResponse(message) { Usage = new UsageDetails { InputTokenCount = 120, OutputTokenCount = 30, TotalTokenCount = 150 } });
    }

    public async IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        foreach (var update in (await GetResponseAsync(messages, options, cancellationToken)).ToChatResponseUpdates())
        {
            yield return update;
        }
    }

    public object? GetService(Type serviceType, object? serviceKey = null) => null;

    public void Dispose()
    {
    }
}

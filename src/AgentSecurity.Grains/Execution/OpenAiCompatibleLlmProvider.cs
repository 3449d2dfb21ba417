using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.Extensions.Options;

namespace AgentSecurity.Grains.Execution;

/// <summary>
/// <c>llm.complete</c> against any OpenAI-compatible chat completions endpoint (OpenAI, vLLM, llama.cpp server,
/// Ollama's <c>/v1</c>): one user message in, the first choice's content out.
/// </summary>
public sealed class OpenAiCompatibleLlmProvider(HttpClient http, IOptions<SandboxOptions> options) : ILlmProvider
{
    private readonly SandboxOptions _options = options.Value;

    public async Task<string> CompleteAsync(string prompt, int maxTokens, CancellationToken cancellation)
    {
        var baseUrl = _options.LlmBaseUrl ?? throw new InvalidOperationException("no LLM endpoint is configured (AgentSecurity:Sandbox:LlmBaseUrl)");
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(baseUrl.AbsoluteUri.TrimEnd('/') + "/chat/completions"))
        {
            // A complete body with its length: some OpenAI-compatible servers do not take chunked requests.
            Content = new StringContent(JsonSerializer.Serialize(new ChatRequest(_options.LlmModel, [new ChatMessage("user", prompt)], maxTokens), ChatJson.Default.ChatRequest), System.Text.Encoding.UTF8, "application/json"),
        };
        if (_options.LlmApiKey is { Length: > 0 } key)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
        }

        using var response = await http.SendAsync(request, cancellation);
        response.EnsureSuccessStatusCode();
        var body = await response.Content.ReadFromJsonAsync(ChatJson.Default.ChatResponse, cancellation);
        return body?.Choices is [{ Message.Content: { } content }, ..] ? content : throw new JsonException("the completion has no choices[0].message.content");
    }

    internal sealed record ChatRequest(
        [property: JsonPropertyName("model")] string Model,
        [property: JsonPropertyName("messages")] IReadOnlyList<ChatMessage> Messages,
        [property: JsonPropertyName("max_tokens")] int MaxTokens);

    internal sealed record ChatMessage(
        [property: JsonPropertyName("role")] string Role,
        [property: JsonPropertyName("content")] string? Content);

    internal sealed record ChatChoice([property: JsonPropertyName("message")] ChatMessage Message);

    internal sealed record ChatResponse([property: JsonPropertyName("choices")] IReadOnlyList<ChatChoice>? Choices);
}

[JsonSerializable(typeof(OpenAiCompatibleLlmProvider.ChatRequest))]
[JsonSerializable(typeof(OpenAiCompatibleLlmProvider.ChatResponse))]
internal sealed partial class ChatJson : JsonSerializerContext;

using System.Diagnostics;
using System.Text.Json;
using AgentSecurity.Abstractions;
using AgentSecurity.Client.Sessions;
using AgentSecurity.Mcp.Arguments;
using Microsoft.Agents.AI;
using Microsoft.Extensions.AI;

namespace AgentsAsGrains;

/// <summary>The platform's own grain: one agent per key <c>tenant/agent</c>, the same key as the kernel's agent grain.</summary>
public interface IAssistantGrain : IGrainWithStringKey
{
    /// <summary>Runs the agent on <paramref name="question"/>; one line per tool call: what was allowed, what refused.</summary>
    Task<IReadOnlyList<string>> AskAsync(string question);

    /// <summary>
    /// Milliseconds per tool call through the guarded and the unguarded pipeline: the median over nine alternating rounds
    /// of <paramref name="calls"/> calls each.
    /// </summary>
    Task<(double Guarded, double Unguarded)> MeasureAsync(int calls);
}

/// <summary>The platform's key: its calls to the kernel prove it with a session (docs/embedding.md).</summary>
public sealed record PlatformSession(ClientSession Session);

public sealed class AssistantGrain(PlatformSession platform) : Grain, IAssistantGrain
{
    private readonly Tools _tools = new();

    public async Task<IReadOnlyList<string>> AskAsync(string question)
    {
        // --- the guard: the agent's grain, and one builder call ---
        var grant = GrainFactory.GetGrain<IAgentGrain>(this.GetPrimaryKeyString());
        var agent = new ChatClientAgent(new ScriptedModel(), new ChatClientAgentOptions
        {
            ChatOptions = new ChatOptions { Tools = _tools.All },
            UseProvidedChatClientAsIs = true, // the guard adds the function invocation: one check per model call
        })
            .AsBuilder()
            .UseAgentSecurity(grant, o =>
            {
                o.Session = () => platform.Session.Current;
                o.Arguments = new ArgumentMap([new ArgumentMapEntry("read_file", "/path", Capabilities.FileSystemRead)]);
            })
            .Build();
        // --- end of the guard ---

        var response = await agent.RunAsync(question);
        var calls = response.Messages.SelectMany(m => m.Contents).OfType<FunctionCallContent>().ToDictionary(c => c.CallId);
        var lines = new List<string>();
        foreach (var result in response.Messages.SelectMany(m => m.Contents).OfType<FunctionResultContent>())
        {
            var call = calls[result.CallId];
            var text = result.Result?.ToString() ?? string.Empty;
            var refused = text.Contains(": ", StringComparison.Ordinal) && text[..text.IndexOf(": ", StringComparison.Ordinal)] is var code && code.All(c => char.IsAsciiLetterLower(c) || c == '_');
            lines.Add($"{(refused ? "refused" : "allowed")} {call.Name} {JsonSerializer.Serialize(call.Arguments)}: {text}");
        }

        lines.Add($"answer: {response.Text}");
        return lines;
    }

    public async Task<(double Guarded, double Unguarded)> MeasureAsync(int calls)
    {
        var grant = GrainFactory.GetGrain<IAgentGrain>(this.GetPrimaryKeyString());
        var options = new ChatOptions { Tools = [_tools.GetWeather] };
        var guarded = new LoopingModel(calls).AsBuilder().UseAgentSecurity(grant, o => { o.Session = () => platform.Session.Current; o.MaximumIterationsPerRequest = calls; }).Build();
        var unguarded = new LoopingModel(calls).AsBuilder().UseFunctionInvocation(configure: f => f.MaximumIterationsPerRequest = calls).Build();
        await guarded.GetResponseAsync("warm up", options);
        await unguarded.GetResponseAsync("warm up", options);

        // Rounds alternate between the two pipelines; the medians of their per-call times are what is compared.
        var guardedMs = new List<double>();
        var unguardedMs = new List<double>();
        for (var round = 0; round < 9; round++)
        {
            guardedMs.Add(await PerCallAsync(guarded));
            unguardedMs.Add(await PerCallAsync(unguarded));
        }

        return (Median(guardedMs), Median(unguardedMs));

        async Task<double> PerCallAsync(IChatClient pipeline)
        {
            var watch = Stopwatch.StartNew();
            await pipeline.GetResponseAsync("go", options);
            return watch.Elapsed.TotalMilliseconds / calls;
        }

        static double Median(List<double> values) => values.Order().ElementAt(values.Count / 2);
    }

    /// <summary>A model that asks for the weather <c>calls</c> times, then answers.</summary>
    private sealed class LoopingModel(int calls) : IChatClient
    {
        public Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
        {
            var done = messages.SelectMany(m => m.Contents).OfType<FunctionResultContent>().Count();
            var message = done < calls
                ? new ChatMessage(ChatRole.Assistant, [new FunctionCallContent($"c{done}", "get_weather", new Dictionary<string, object?> { ["city"] = "Oslo" })])
                : new ChatMessage(ChatRole.Assistant, "ok");
            return Task.FromResult(new ChatResponse(message) { Usage = new UsageDetails { TotalTokenCount = 1 } });
        }

        public IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default) =>
            throw new NotSupportedException();

        public object? GetService(Type serviceType, object? serviceKey = null) => null;

        public void Dispose()
        {
        }
    }
}

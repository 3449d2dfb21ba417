using AgentSecurity.Abstractions.Audit;
using AgentSecurity.Grains.Audit;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Providers.Streams.AzureQueue;
using Orleans.Serialization;

namespace AgentSecurity.Grains.Tests.Audit;

/// <summary>
/// The bound of a group commit against what Orleans' Azure queue adapter really writes: the batch serialized and base64
/// encoded as one message, which Azure Queue storage takes up to 64 KiB.
/// </summary>
public sealed class QueueMessageSizeTests
{
    private const int AzureQueueMessageLimit = 64 * 1024;

    private static readonly AzureQueueDataAdapterV2 Adapter = new(new ServiceCollection().AddSerializer().BuildServiceProvider().GetRequiredService<Serializer>());

    // Wider than any field may be, in characters and in UTF-8 (three bytes each): clamped to the widest a field can be.
    private static readonly string Widest = new('\u20AC', SecurityEventBounds.MaxFieldLength);

    private static DecisionEvent WidestDenial(int n) => (DecisionEvent)SecurityEventBounds.Clamp(new DecisionEvent
    {
        Id = $"{n:D32}",
        Type = SecurityEventTypes.CheckDenied,
        TenantId = Widest,
        AgentId = Widest,
        Time = DateTimeOffset.UnixEpoch,
        Silo = "S127.0.0.1:11111:123456789",
        TraceId = new string('a', 32),
        SpanId = new string('b', 16),
        Capability = Widest,
        Resource = Widest,
        GrantId = Widest,
        Message = Widest,
        Reason = "out_of_scope",
    });

    private static int MessageLength(IReadOnlyList<SecurityEvent> events) =>
        Adapter.ToQueueMessage(AuditStreams.For("acme"), events, null, []).Length;

    private static int SerializedLength(IReadOnlyList<SecurityEvent> events) => MessageLength(events) * 3 / 4;

    [Fact]
    public void EstimatedSize_OfTheWidestEvents_IsAtLeastWhatTheyAddToAMessage()
    {
        var one = SerializedLength([WidestDenial(0)]);
        var two = SerializedLength([WidestDenial(0), WidestDenial(1)]);
        var plain = new DecisionEvent { Id = "e1", Type = SecurityEventTypes.CheckDenied, TenantId = "acme", AgentId = "bot", Capability = "llm" };

        Assert.True(TenantEventBatcher.EstimatedSize(WidestDenial(1)) >= two - one, $"estimated {TenantEventBatcher.EstimatedSize(WidestDenial(1))}, added {two - one}");
        Assert.True(TenantEventBatcher.EstimatedSize(plain) >= SerializedLength([WidestDenial(0), plain]) - one);
    }

    [Fact]
    public async Task TryPublish_TheWidestDenialsAtTheDefaultBounds_FitAnAzureQueueMessageEach()
    {
        var writes = new List<IReadOnlyList<SecurityEvent>>();
        var defaults = new AuditOptions();
        var batcher = new TenantEventBatcher(events =>
        {
            writes.Add(events);
            return Task.CompletedTask;
        }, defaults.QueueMessageMaxEvents, defaults.QueueMessageMaxBytes, _ => { });

        await batcher.TryPublish([.. Enumerable.Range(0, 40).Select(WidestDenial)])!.WaitAsync(TimeSpan.FromSeconds(10));

        Assert.True(writes.Count > 1, "forty of the widest denials do not fit one message");
        Assert.Equal(40, writes.Sum(w => w.Count));
        Assert.All(writes, w => Assert.True(MessageLength(w) <= AzureQueueMessageLimit, $"{w.Count} events make a message of {MessageLength(w)} characters"));
    }

    [Fact]
    public void ToQueueMessage_TheWidestDenialsAtTheMostBytesAllowed_FitAnAzureQueueMessage()
    {
        var size = TenantEventBatcher.EstimatedSize(WidestDenial(0));
        var events = Enumerable.Range(0, 46_000 / size).Select(WidestDenial).ToList();

        Assert.True(MessageLength(events) <= AzureQueueMessageLimit, $"{events.Count} events make a message of {MessageLength(events)} characters");
    }

    [Fact]
    public async Task TryPublish_ToolCallsOfOneSummary_ExceedOneMessageAndAreSplitIntoMessagesThatFit()
    {
        // What an agent publishes at most at once: 256 allowed tool calls (AgentAudit's buffer), ordinary ones.
        var calls = Enumerable.Range(0, 256).Select(i => (SecurityEvent)new ToolEvent
        {
            Id = Guid.CreateVersion7().ToString("N"),
            Type = SecurityEventTypes.ToolCalled,
            TenantId = "acme-platform",
            AgentId = "research-assistant-7",
            Time = DateTimeOffset.UnixEpoch,
            Silo = "S10.0.0.12:11111:123456789",
            TraceId = new string('a', 32),
            SpanId = new string('b', 16),
            Server = "filesystem",
            Tool = "read_text_file",
            GrantId = "grant-2026-research-assistant-7",
            DefinitionHash = new string('c', 64),
            Capability = "fileSystem:read",
            Resource = $"/workspace/projects/report-{i}/sources/section-{i}.md",
            RequestId = $"req-{i:D8}",
            Reason = "allowed",
        }).ToList();
        var writes = new List<IReadOnlyList<SecurityEvent>>();
        var defaults = new AuditOptions();
        var batcher = new TenantEventBatcher(events =>
        {
            writes.Add(events);
            return Task.CompletedTask;
        }, defaults.QueueMessageMaxEvents, defaults.QueueMessageMaxBytes, _ => { });

        await batcher.TryPublish(calls)!.WaitAsync(TimeSpan.FromSeconds(10));

        Assert.True(MessageLength(calls) > AzureQueueMessageLimit, $"256 tool calls as one message: {MessageLength(calls)} characters");
        Assert.Equal(calls.Select(c => c.Id), writes.SelectMany(w => w).Select(e => e.Id));
        Assert.All(writes, w => Assert.True(MessageLength(w) <= AzureQueueMessageLimit, $"{w.Count} events make a message of {MessageLength(w)} characters"));
    }

    [Fact]
    public void ToQueueMessage_TheWidestToolEventAlone_FitsAnAzureQueueMessage()
    {
        // The event with the most texts, each as wide as a caller could make it: clamped, it must fit one message, or a
        // denial of it could never be recorded.
        var tool = (ToolEvent)SecurityEventBounds.Clamp(new ToolEvent
        {
            Id = Widest,
            Type = Widest,
            TenantId = Widest,
            AgentId = Widest,
            Silo = Widest,
            TraceId = Widest,
            SpanId = Widest,
            Message = Widest,
            Reason = Widest,
            Server = Widest,
            Tool = Widest,
            GrantId = Widest,
            DefinitionHash = Widest,
            Capability = Widest,
            Resource = Widest,
            RequestId = Widest,
        });

        Assert.True(MessageLength([tool]) <= AzureQueueMessageLimit, $"one tool event makes a message of {MessageLength([tool])} characters");
        Assert.True(TenantEventBatcher.EstimatedSize(tool) <= new AuditOptions().QueueMessageMaxBytes, $"estimated {TenantEventBatcher.EstimatedSize(tool)} bytes");
    }
}

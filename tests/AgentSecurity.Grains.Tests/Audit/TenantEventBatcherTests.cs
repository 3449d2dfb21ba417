using System.Collections.Concurrent;
using AgentSecurity.Abstractions.Audit;
using AgentSecurity.Grains.Audit;

namespace AgentSecurity.Grains.Tests.Audit;

/// <summary>
/// The group commit of one tenant's events, driven through a write the test controls (it stands for the queue write,
/// which the cluster tests run for real): what shares a write, when publishers hear of it, and the bounds of a write.
/// </summary>
public sealed class TenantEventBatcherTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(10);

    /// <summary>A queue write that records what it got and waits for the test to end it, one by one.</summary>
    private sealed class ControlledWrite
    {
        private readonly ConcurrentQueue<TaskCompletionSource> _ends = new();
        private readonly SemaphoreSlim _started = new(0);

        public ConcurrentQueue<(IReadOnlyList<SecurityEvent> Events, TaskScheduler Scheduler, object? Context)> Writes { get; } = new();

        public Task WriteAsync(IReadOnlyList<SecurityEvent> events)
        {
            var end = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            Writes.Enqueue((events, TaskScheduler.Current, RequestContext.Get("caller")));
            _ends.Enqueue(end);
            _started.Release();
            return end.Task;
        }

        /// <summary>Waits until the next write starts and returns what ends it.</summary>
        public async Task<TaskCompletionSource> NextAsync()
        {
            Assert.True(await _started.WaitAsync(Patience), "a write should have started");
            Assert.True(_ends.TryDequeue(out var end));
            return end;
        }
    }

    private static TenantEventBatcher Batcher(ControlledWrite write, int maxEvents = 256, int maxBytes = 32_768) =>
        new(write.WriteAsync, maxEvents, maxBytes, _ => { });

    private static DecisionEvent Denial(int n, int resourceLength = 10) => new()
    {
        Id = $"e{n}",
        Type = SecurityEventTypes.CheckDenied,
        TenantId = "acme",
        AgentId = $"bot{n}",
        Capability = "fileSystem:read",
        Resource = new string('r', resourceLength),
        Reason = "out_of_scope",
    };

    [Fact]
    public async Task TryPublish_WhileAWriteIsInFlight_LaterPublishersShareTheNextWriteAndHearOnlyWhenItSucceeds()
    {
        var write = new ControlledWrite();
        var batcher = Batcher(write);

        var first = batcher.TryPublish([Denial(0)])!;
        var firstWrite = await write.NextAsync();
        var later = Enumerable.Range(1, 5).Select(i => batcher.TryPublish([Denial(i)])!).ToList();
        firstWrite.SetResult();
        await first.WaitAsync(Patience);
        var shared = await write.NextAsync();

        Assert.All(later, t => Assert.False(t.IsCompleted, "a publisher hears of its write only once the write has succeeded"));
        shared.SetResult();
        await Task.WhenAll(later).WaitAsync(Patience);
        Assert.Equal([["e0"], ["e1", "e2", "e3", "e4", "e5"]], write.Writes.Select(w => w.Events.Select(e => e.Id).ToArray()));
    }

    [Fact]
    public async Task TryPublish_TheSharedWriteFails_EveryPublisherOfThatWriteGetsItsFailure()
    {
        var write = new ControlledWrite();
        var batcher = Batcher(write);

        var first = batcher.TryPublish([Denial(0)])!;
        var firstWrite = await write.NextAsync();
        var later = Enumerable.Range(1, 4).Select(i => batcher.TryPublish([Denial(i)])!).ToList();
        firstWrite.SetResult();
        var failure = new InvalidOperationException("queue unreachable");
        (await write.NextAsync()).SetException(failure);

        await first.WaitAsync(Patience);
        foreach (var publisher in later)
        {
            Assert.Same(failure, await Assert.ThrowsAsync<InvalidOperationException>(() => publisher.WaitAsync(Patience)));
        }

        // The batcher goes on: what comes after the failure is written and heard of.
        var after = batcher.TryPublish([Denial(9)]) ?? Batcher(write).TryPublish([Denial(9)])!;
        (await write.NextAsync()).SetResult();
        await after.WaitAsync(Patience);
    }

    [Fact]
    public async Task TryPublish_Idle_WritesAtOnceOffTheCallersSchedulerAndWithoutItsRequestContext()
    {
        var write = new ControlledWrite();
        var batcher = Batcher(write);
        RequestContext.Set("caller", "session-of-someone");
        try
        {
            var published = batcher.TryPublish([Denial(0)])!;
            (await write.NextAsync()).SetResult();
            await published.WaitAsync(Patience);
        }
        finally
        {
            RequestContext.Clear();
        }

        var (events, scheduler, context) = Assert.Single(write.Writes);
        Assert.Equal("e0", Assert.Single(events).Id);
        Assert.Same(TaskScheduler.Default, scheduler);
        Assert.Null(context);
    }

    [Fact]
    public async Task TryPublish_SetsThatTogetherExceedTheBytes_AreNotMerged()
    {
        var write = new ControlledWrite();
        var size = TenantEventBatcher.EstimatedSize(Denial(1, 1_000));
        var batcher = Batcher(write, maxBytes: (2 * size) + 10);

        var first = batcher.TryPublish([Denial(0)])!;
        var firstWrite = await write.NextAsync();
        var later = new[] { batcher.TryPublish([Denial(1, 1_000)])!, batcher.TryPublish([Denial(2, 1_000)])!, batcher.TryPublish([Denial(3, 1_000)])! };
        firstWrite.SetResult();
        (await write.NextAsync()).SetResult();
        (await write.NextAsync()).SetResult();
        await Task.WhenAll(later.Append(first)).WaitAsync(Patience);

        Assert.Equal([["e0"], ["e1", "e2"], ["e3"]], write.Writes.Select(w => w.Events.Select(e => e.Id).ToArray()));
    }

    [Fact]
    public async Task TryPublish_OneSetBeyondTheBounds_IsSplitIntoWritesWithinThemInOrder()
    {
        var write = new ControlledWrite();
        var size = TenantEventBatcher.EstimatedSize(Denial(0, 1_000));
        var batcher = Batcher(write, maxEvents: 4, maxBytes: 3 * size);

        var published = batcher.TryPublish([.. Enumerable.Range(0, 10).Select(i => Denial(i, 1_000))])!;
        for (var i = 0; i < 4; i++)
        {
            var end = await write.NextAsync();
            Assert.False(published.IsCompleted, "the set is recorded only when all its writes are");
            end.SetResult();
        }

        await published.WaitAsync(Patience);
        Assert.Equal([["e0", "e1", "e2"], ["e3", "e4", "e5"], ["e6", "e7", "e8"], ["e9"]], write.Writes.Select(w => w.Events.Select(e => e.Id).ToArray()));
    }

    [Fact]
    public async Task TryPublish_ManySmallSets_AreMergedUpToTheCount()
    {
        var write = new ControlledWrite();
        var batcher = Batcher(write, maxEvents: 3);

        var first = batcher.TryPublish([Denial(0)])!;
        var firstWrite = await write.NextAsync();
        var later = new[] { batcher.TryPublish([Denial(1), Denial(2)])!, batcher.TryPublish([Denial(3)])!, batcher.TryPublish([Denial(4)])! };
        firstWrite.SetResult();
        (await write.NextAsync()).SetResult();
        (await write.NextAsync()).SetResult();
        await Task.WhenAll(later.Append(first)).WaitAsync(Patience);

        Assert.Equal([["e0"], ["e1", "e2", "e3"], ["e4"]], write.Writes.Select(w => w.Events.Select(e => e.Id).ToArray()));
    }

    [Fact]
    public async Task TryPublish_AfterTheBatcherWentIdle_ReturnsNullSoThatTheCallerTakesAFreshOne()
    {
        var write = new ControlledWrite();
        var retired = new TaskCompletionSource<TenantEventBatcher>(TaskCreationOptions.RunContinuationsAsynchronously);
        var batcher = new TenantEventBatcher(write.WriteAsync, 256, 32_768, b => retired.TrySetResult(b));

        var published = batcher.TryPublish([Denial(0)])!;
        (await write.NextAsync()).SetResult();
        await published.WaitAsync(Patience);

        Assert.Same(batcher, await retired.Task.WaitAsync(Patience));
        Assert.Null(batcher.TryPublish([Denial(1)]));
    }
}

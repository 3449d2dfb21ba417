using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text;
using AgentSecurity.Abstractions;
using AgentSecurity.Grains.Telemetry;
using AgentSecurity.Grains.Tests.Infrastructure;
using AgentSecurity.Testing;

namespace AgentSecurity.Grains.Tests;

/// <summary>
/// The kernel's spans as a tracer sees them (an <see cref="ActivityListener"/> in the test process, which hosts the
/// silos): which checks get one, and how a recorded decision's span leads to its audit record.
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class KernelTracingTests : IDisposable
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(20);

    private readonly ClusterFixture _fixture;
    private readonly ActivityListener _listener;
    private readonly ConcurrentQueue<Activity> _stopped = new();
    private readonly object _gate = new();
    private TaskCompletionSource _next = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public KernelTracingTests(ClusterFixture fixture)
    {
        _fixture = fixture;
        _listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == KernelTracing.SourceName,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = activity =>
            {
                _stopped.Enqueue(activity);
                lock (_gate)
                {
                    var next = _next;
                    _next = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                    next.SetResult();
                }
            },
        };
        ActivitySource.AddActivityListener(_listener);
    }

    public void Dispose() => _listener.Dispose();

    [Fact]
    public async Task CheckAsync_Denied_ItsSpanNamesTheEventAndTheRecordSpanUnderItCarriesTheEventsSequence()
    {
        var tenant = await _fixture.NewTenantAsync();
        await _fixture.ApplyAsync(TestDocuments.Grant(tenant, "bot", _fixture.Now).SignWith(TestKeys.Root));

        var decision = await _fixture.CheckAsync(tenant, "bot", "fileSystem:read", "/etc/shadow");

        Assert.False(decision.Allowed);
        var check = await SpanAsync(a => a.OperationName == KernelTracing.Check && Tag(a, KernelTracing.TenantAttribute) == tenant);
        Assert.Equal(false, check.GetTagItem(KernelTracing.AllowedAttribute));
        var eventId = Tag(check, KernelTracing.EventIdAttribute);
        Assert.NotNull(eventId);
        var record = await SpanAsync(a => a.OperationName == KernelTracing.AuditRecord && a.TraceId == check.TraceId && a.ParentSpanId == check.SpanId);
        var sequence = Assert.IsType<long>(record.GetTagItem(KernelTracing.SequenceAttribute));
        var stored = _fixture.AuditLog.Records(tenant).Single(r => r.Sequence == sequence);
        Assert.Equal(eventId, stored.EventId);
        Assert.Contains($"\"traceId\":\"{check.TraceId.ToHexString()}\"", stored.EventJson, StringComparison.Ordinal);
        Assert.DoesNotContain(check.SpanId.ToHexString(), stored.EventJson, StringComparison.Ordinal); // the span id travels to the log, not in the record
    }

    [Fact]
    public async Task CheckAsync_AllowedChecks_OnlyOneInAHundredGetsASpan()
    {
        var tenant = await _fixture.NewTenantAsync();
        await _fixture.ApplyAsync(TestDocuments.Grant(tenant, "bot", _fixture.Now).SignWith(TestKeys.Root));

        for (var i = 0; i < 400; i++)
        {
            Assert.True((await _fixture.CheckAsync(tenant, "bot", "fileSystem:read", "/workspace/in.txt")).Allowed);
        }

        // One in a hundred per thread: at most one for each hundred checks and each thread that ran some. Every check
        // with a span would be 400.
        var spans = _stopped.Count(a => a.OperationName == KernelTracing.Check && Tag(a, KernelTracing.TenantAttribute) == tenant);
        Assert.True(spans <= 4 + Environment.ProcessorCount * 2, $"{spans} of 400 allowed checks had a span");
    }

    [Fact]
    public async Task RevokeAsync_HeldGrant_TheAgentsNoticeIsAChildOfTheRevocationsSpan()
    {
        var tenant = await _fixture.NewTenantAsync();
        await _fixture.ApplyAsync(TestDocuments.Grant(tenant, "bot", _fixture.Now, "g-traced").SignWith(TestKeys.Root));

        var result = await _fixture.Client.RevokeAsync(TestDocuments.Revocation(tenant, "g-traced", _fixture.Now).SignWith(TestKeys.Root));

        Assert.True(result.Revoked, $"{result.Error}: {result.Message}");
        var revoke = await SpanAsync(a => a.OperationName == KernelTracing.Revoke && Tag(a, KernelTracing.TenantAttribute) == tenant);
        var notice = await SpanAsync(a => a.OperationName == KernelTracing.RevocationNotice && Tag(a, KernelTracing.TenantAttribute) == tenant);
        Assert.Equal(revoke.TraceId, notice.TraceId);
        Assert.Equal(revoke.SpanId, notice.ParentSpanId);
        Assert.Equal("g-traced", Tag(notice, KernelTracing.GrantAttribute));
    }

    [Fact]
    public async Task ExecuteAsync_HostCallAllowedOnTheLocalPath_ItsSpanSaysSoAndHasNoCheckUnderIt()
    {
        var tenant = await _fixture.NewTenantAsync();
        await _fixture.ApplyAsync(TestDocuments.Grant(tenant, "bot", _fixture.Now).SetJson("resourceLimits", ClusterFixture.LoadedMachine).SignWith(TestKeys.Root));
        Assert.True((await _fixture.CheckAsync(tenant, "bot", "fileSystem:read", "/workspace/a.txt")).Allowed); // its tenant's limits are read: the picture is current

        var result = await _fixture.Client.ExecuteAsync(tenant, "bot", new ExecutionRequest
        {
            Runtime = "js",
            Code = Encoding.UTF8.GetBytes("agentsec.fs.write('/workspace/a.txt', 'x'); agentsec.fs.read('/workspace/a.txt'); try { agentsec.fs.read('/etc/passwd'); } catch (e) { } agentsec.output('ok')"),
            Input = string.Empty,
        });

        Assert.True(result.Ok, result.Message);
        var execution = await SpanAsync(a => a.OperationName == KernelTracing.Execution && Tag(a, KernelTracing.TenantAttribute) == tenant);
        var hostCalls = _stopped.Where(a => a.OperationName == KernelTracing.HostCall && a.ParentSpanId == execution.SpanId).OrderBy(a => a.StartTimeUtc).ToList();
        Assert.Equal([true, true, null], hostCalls.Select(a => a.GetTagItem(KernelTracing.LocalAttribute) as bool?));
        Assert.Equal([null, null, "out_of_scope"], hostCalls.Select(a => Tag(a, KernelTracing.ReasonAttribute) is "allowed" ? null : Tag(a, KernelTracing.ReasonAttribute)));
        Assert.Equal([false, false, true], hostCalls.Select(h => _stopped.Any(a => a.OperationName == KernelTracing.Check && a.ParentSpanId == h.SpanId)));
    }

    private static string? Tag(Activity activity, string name) => activity.GetTagItem(name) as string;

    private async Task<Activity> SpanAsync(Func<Activity, bool> match)
    {
        using var deadline = new CancellationTokenSource(Wait);
        while (true)
        {
            Task next;
            lock (_gate)
            {
                next = _next.Task;
            }

            if (_stopped.FirstOrDefault(match) is { } found)
            {
                return found;
            }

            try
            {
                await next.WaitAsync(deadline.Token);
            }
            catch (OperationCanceledException)
            {
                throw new TimeoutException($"no such span within {Wait.TotalSeconds:0} s; stopped: {string.Join(", ", _stopped.Select(a => a.OperationName).Distinct())}");
            }
        }
    }
}

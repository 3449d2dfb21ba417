using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using AgentSecurity.Audit.Chain;
using AgentSecurity.Grains.Audit;

namespace AgentSecurity.Grains.Tests.Infrastructure;

/// <summary>
/// Audit logs in process memory for grain tests, with the same rules as the table store (a sequence that exists fails
/// the whole append) and ways to tamper with stored rows as someone with storage access could. The Azure Table store
/// is exercised by the integration tests.
/// </summary>
public sealed class TestAuditLogStore : IAuditLogStore
{
    public static readonly TestAuditLogStore Shared = new();

    private readonly ConcurrentDictionary<string, Log> _logs = new(StringComparer.Ordinal);

    public int MaxRecordsPerAppend => 99;

    public Task<AuditHead?> ReadHeadAsync(string tenant, CancellationToken cancellation = default)
    {
        var log = For(tenant);
        lock (log)
        {
            return Task.FromResult(log.Head);
        }
    }

    public Task AppendAsync(string tenant, IReadOnlyList<AuditRecord> records, AuditHead head, string? checkpoint = null, CancellationToken cancellation = default)
    {
        var log = For(tenant);
        lock (log)
        {
            if (records.Any(r => log.Records.ContainsKey(r.Sequence)))
            {
                throw new InvalidOperationException("a record with this sequence number exists");
            }

            foreach (var record in records)
            {
                log.Records[record.Sequence] = record;
            }

            log.Head = head;
            if (checkpoint is not null)
            {
                log.Checkpoints[head.Sequence] = checkpoint;
            }

            log.Appended.TrySetResult();
            log.Appended = new(TaskCreationOptions.RunContinuationsAsynchronously);
        }

        return Task.CompletedTask;
    }

    public async IAsyncEnumerable<AuditRecord> ReadAsync(string tenant, long first, long last, [EnumeratorCancellation] CancellationToken cancellation = default)
    {
        AuditRecord[] rows;
        var log = For(tenant);
        lock (log)
        {
            rows = log.Records.Where(p => p.Key >= first && p.Key <= last).OrderBy(p => p.Key).Select(p => p.Value).ToArray();
        }

        foreach (var row in rows)
        {
            await Task.Yield();
            yield return row;
        }
    }

    public Task AppendCheckpointAsync(string tenant, long size, string document, CancellationToken cancellation = default)
    {
        var log = For(tenant);
        lock (log)
        {
            log.Checkpoints[size] = document;
        }

        return Task.CompletedTask;
    }

    public Task<IReadOnlyList<string>> ReadCheckpointsAsync(string tenant, CancellationToken cancellation = default)
    {
        var log = For(tenant);
        lock (log)
        {
            return Task.FromResult<IReadOnlyList<string>>(log.Checkpoints.OrderBy(p => p.Key).Select(p => p.Value).ToArray());
        }
    }

    public IReadOnlyList<AuditRecord> Records(string tenant)
    {
        var log = For(tenant);
        lock (log)
        {
            return log.Records.OrderBy(p => p.Key).Select(p => p.Value).ToArray();
        }
    }

    /// <summary>Changes the stored rows of a tenant's log directly, as someone with access to the storage account could.</summary>
    public void Tamper(string tenant, Action<SortedDictionary<long, AuditRecord>> change)
    {
        var log = For(tenant);
        lock (log)
        {
            change(log.Records);
        }
    }

    private Log For(string tenant) => _logs.GetOrAdd(tenant, _ => new Log());

    /// <summary>
    /// The tenant's events once <paramref name="until"/> holds for them, woken by each append (the grain writes the log
    /// asynchronously, after the call that caused the event returned); after <paramref name="timeout"/>, whatever is there.
    /// </summary>
    public async Task<IReadOnlyList<Abstractions.Audit.SecurityEvent>> WaitForEventsAsync(string tenant, Func<IReadOnlyList<Abstractions.Audit.SecurityEvent>, bool> until, TimeSpan timeout)
    {
        var log = For(tenant);
        using var expiry = new CancellationTokenSource(timeout);
        while (true)
        {
            Task appended;
            lock (log)
            {
                appended = log.Appended.Task;
            }

            var events = Records(tenant).Select(r => Abstractions.Audit.SecurityEventJson.Read(r.EventJson)).ToList();
            if (until(events) || expiry.IsCancellationRequested)
            {
                return events;
            }

            await appended.WaitAsync(expiry.Token).ContinueWith(_ => { }, CancellationToken.None, TaskContinuationOptions.None, TaskScheduler.Default);
        }
    }

    private sealed class Log
    {
        /// <summary>Completed by the next append.</summary>
        public TaskCompletionSource Appended { get; set; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public SortedDictionary<long, AuditRecord> Records { get; } = [];

        public SortedDictionary<long, string> Checkpoints { get; } = [];

        public AuditHead? Head { get; set; }
    }
}

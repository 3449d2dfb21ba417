using AgentSecurity.Grants;
using AgentSecurity.Grants.Access;
using AgentSecurity.Grains.Boundary;
using AgentSecurity.Abstractions.Boundary;
using System.Diagnostics;
using AgentSecurity.Abstractions;
using AgentSecurity.Abstractions.Kernel;
using AgentSecurity.Abstractions.Audit;
using AgentSecurity.Audit.Chain;
using AgentSecurity.Audit.Detection;
using AgentSecurity.Audit.Merkle;
using AgentSecurity.Grains.Telemetry;
using AgentSecurity.Grants.Documents;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Streams;
using Orleans.Streams.Core;

namespace AgentSecurity.Grains.Audit;

/// <summary>
/// A tenant's audit log: the only writer of its chain in storage. Subscribed implicitly to the tenant's event stream,
/// it appends every delivered batch as one storage transaction before acknowledging it (so the stream redelivers
/// what was not stored, and the log drops redelivered ids), signs checkpoints, and runs the detection rules.
/// </summary>
[ImplicitStreamSubscription(AuditStreams.Namespace)]
public sealed class AuditStreamGrain : Grain, IAuditStreamGrain, IAuditKernelGrain, IStreamSubscriptionObserver, IAsyncBatchObserver<SecurityEvent>
{
    /// <summary>Event ids remembered to drop redeliveries; at-least-once redelivery only ever concerns recent events.</summary>
    public const int RecentIds = 10_000;

    private readonly IAuditLogStore _store;
    private readonly AuditKey _key;
    private readonly AuditOptions _options;
    private readonly TimeProvider _time;
    private readonly AuditEvents _events;
    private readonly ILogger<AuditStreamGrain> _logger;
    private readonly DetectionEngine _detection = new();
    private readonly HashSet<string> _recent = new(StringComparer.Ordinal);
    private readonly Queue<string> _recentOrder = new();

    private string _tenant = string.Empty;
    private long _last;
    private string _lastHash = AuditChain.Genesis;
    private MerkleAccumulator _tree = new();
    private long _lastCheckpoint;

    /// <summary>The last verification's result, for the security console; in memory only (a new activation has none).</summary>
    private LastAuditVerification? _lastVerification;
    private IReadOnlyList<DetectionRuleSettings> _rules = [];

    private readonly AgentSecurityMetrics _metrics;
    private readonly AuditSubscribers _subscribers;

    public AuditStreamGrain(
        IAuditLogStore store,
        AuditKey key,
        IOptions<AuditOptions> options,
        [FromKeyedServices(KernelClock.ServiceKey)] TimeProvider time,
        AuditEvents events,
        AgentSecurityMetrics metrics,
        ILogger<AuditStreamGrain> logger)
    {
        _metrics = metrics;
        _store = store;
        var tenant = this.GetPrimaryKeyString();
        var authorizer = ServiceProvider.GetRequiredService<CallAuthorizer>();
        _subscribers = new AuditSubscribers(tenant, store, TimeProvider.System, async principal =>
            principal is null || await authorizer.AuthorizeAsync(principal, AccessRights.Audit, CallScope.Tenant, tenant, agent: null, agentDid: null) is null, logger);
        _key = key;
        _options = options.Value;
        _time = time;
        _events = events;
        _logger = logger;
    }

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        _tenant = this.GetPrimaryKeyString();
        var rules = _options.RulesFor(_tenant);
        _rules = new[]
        {
            (Rule: rules.DenyBurst, Name: "deny-burst", Type: SecurityEventTypes.CheckDenied),
            (Rule: rules.SandboxViolations, Name: "sandbox-violations", Type: SecurityEventTypes.SandboxViolation),
            (Rule: rules.QuotaStorm, Name: "quota-storm", Type: SecurityEventTypes.QuotaExceeded),
        }.Where(r => r.Rule.Enabled).Select(r => new DetectionRuleSettings(r.Name, r.Type, r.Rule.Threshold, r.Rule.Window, r.Rule.Quarantine)).ToArray();

        if (await _store.ReadHeadAsync(_tenant, cancellationToken) is { } head)
        {
            _last = head.Sequence;
            _lastHash = head.Hash;
            _tree = MerkleAccumulator.Restore(head.Sequence, head.Frontier.Select(Convert.FromHexString).ToArray()) ?? await RebuildTreeAsync(head.Sequence, cancellationToken);
            await foreach (var record in _store.ReadAsync(_tenant, Math.Max(1, _last - RecentIds + 1), _last, cancellationToken))
            {
                Remember(record.EventId);
            }
        }

        var checkpoints = await _store.ReadCheckpointsAsync(_tenant, cancellationToken);
        _lastCheckpoint = checkpoints.Select(CheckpointDocument.Parse).Where(c => c.Succeeded).Select(c => c.Value.Size).DefaultIfEmpty(0).Max();
        this.RegisterGrainTimer(CheckpointIfDueAsync, new GrainTimerCreationOptions(_options.CheckpointInterval, _options.CheckpointInterval) { Interleave = false });
    }

    // ---- The stream --------------------------------------------------------------------------------------------

    public async Task OnSubscribed(IStreamSubscriptionHandleFactory handleFactory)
    {
        // Orleans subscribes this grain to the audit namespace on every stream provider of the silo. Only the kernel's
        // provider carries the kernel's events: another one (a co-hosting platform's) is anyone's to publish on, and what
        // arrives there never reaches the log.
        if (handleFactory.ProviderName != AuditStreams.ProviderName)
        {
            Log.ForeignAuditStream(_logger, handleFactory.ProviderName, _tenant);
            await handleFactory.Create<SecurityEvent>().ResumeAsync((_, _) => Task.CompletedTask);
            return;
        }

        await handleFactory.Create<SecurityEvent>().ResumeAsync(this);
    }

    public Task OnNextAsync(IList<SequentialItem<SecurityEvent>> items) => AppendCoreAsync(items.Select(i => i.Item).ToList());

    public Task OnCompletedAsync() => Task.CompletedTask;

    public Task OnErrorAsync(Exception ex)
    {
        Log.AuditStreamError(_logger, ex, _tenant);
        return Task.CompletedTask;
    }

    // ---- The log -----------------------------------------------------------------------------------------------

    public Task<AuditAppendResult> AppendAsync(IReadOnlyList<SecurityEvent> events) => AppendCoreAsync(events);

    private async Task<AuditAppendResult> AppendCoreAsync(IReadOnlyList<SecurityEvent> events)
    {
        var started = Stopwatch.GetTimestamp();
        var appendStarted = KernelTracing.Enabled ? TimeProvider.System.GetUtcNow() : default; // a span's start, not the kernel's time
        var fresh = new List<SecurityEvent>(events.Count);
        var ids = new HashSet<string>(StringComparer.Ordinal);
        foreach (var e in events)
        {
            if (e.TenantId == _tenant && !_recent.Contains(e.Id) && ids.Add(e.Id))
            {
                fresh.Add(SecurityEventBounds.Clamp(e)); // published by this kernel, bounded already; appended by anyone
            }
        }

        if (fresh.Count == 0)
        {
            return new AuditAppendResult { Duplicates = events.Count, LastSequence = _last, ElapsedMilliseconds = Stopwatch.GetElapsedTime(started).TotalMilliseconds };
        }

        // One storage transaction per chunk; each chunk's head is the head after it, so a failure part way leaves a
        // consistent log, and what was not stored is delivered again.
        foreach (var chunk in fresh.Chunk(_store.MaxRecordsPerAppend))
        {
            var records = new List<AuditRecord>(chunk.Length);
            var tree = _tree.Clone();
            var (sequence, previous) = (_last, _lastHash);
            foreach (var e in chunk)
            {
                var json = SecurityEventJson.Write(e);
                sequence++;
                var (hash, leaf) = AuditChain.Link(sequence, previous, json);
                records.Add(new AuditRecord(sequence, e.Id, json, previous, hash));
                tree.Append(leaf);
                previous = hash;
            }

            // A checkpoint that falls due goes in the same transaction: no request of its own under load.
            var checkpoint = sequence - _lastCheckpoint >= _options.CheckpointEveryRecords ? SignCheckpoint(sequence, tree.Root(), previous) : null;
            try
            {
                await _store.AppendAsync(_tenant, records, new AuditHead(sequence, previous, tree.Frontier.Select(Convert.ToHexStringLower).ToArray()), checkpoint);
            }
            catch (Exception e)
            {
                // Another activation may have written meanwhile: this one steps aside, the next reads the head afresh.
                Log.AuditAppendFailed(_logger, e, _tenant);
                DeactivateOnIdle();
                throw;
            }

            (_last, _lastHash, _tree) = (sequence, previous, tree);
            _lastCheckpoint = checkpoint is null ? _lastCheckpoint : sequence;
            foreach (var e in chunk)
            {
                Remember(e.Id);
            }

            _metrics.AuditEventsAppended.Add(chunk.Length);
            if (KernelTracing.Enabled)
            {
                // The leaf index is known only now, after the check answered: the record's span joins the trace of
                // the span that recorded the event, as its child, and carries the sequence `audit prove` takes.
                for (var i = 0; i < chunk.Length; i++)
                {
                    KernelTracing.Recorded(_tenant, records[i].Sequence, chunk[i], appendStarted);
                }
            }

            if (_subscribers.Count > 0)
            {
                _subscribers.Appended(records.Zip(chunk, (r, e) => new LoggedEvent(r.Sequence, e)).ToArray());
            }
        }

        await DetectAsync(fresh);

        return new AuditAppendResult
        {
            Appended = fresh.Count,
            Duplicates = events.Count - fresh.Count,
            LastSequence = _last,
            ElapsedMilliseconds = Stopwatch.GetElapsedTime(started).TotalMilliseconds,
        };
    }

    public Task<long> SubscribeAsync(ISecurityEventObserver observer, long afterSequence)
    {
        // Only a client's observer: a grain that implemented the interface would be called with the kernel's token.
        var target = observer.GetGrainId();
        if (!GrainTypePrefix.IsClient(in target))
        {
            throw new CallRefusedException(ReasonCodes.Forbidden, $"{ReasonCodes.Forbidden}: a subscriber is a client's observer, not {target}");
        }

        if (!_subscribers.Subscribe(observer, CallerContext.Principal, afterSequence, _last))
        {
            throw new CallRefusedException(ReasonCodes.RateLimited, $"{ReasonCodes.RateLimited}: the log of {_tenant} serves {AuditSubscribers.MaxSubscribers} subscribers already");
        }

        return Task.FromResult(_last);
    }

    public Task UnsubscribeAsync(ISecurityEventObserver observer)
    {
        _subscribers.Unsubscribe(observer);
        return Task.CompletedTask;
    }

    public async Task<IReadOnlyList<AuditRecordInfo>> ReadAsync(long fromSequence, int count)
    {
        var first = Math.Max(1, fromSequence);
        var records = new List<AuditRecordInfo>();
        await foreach (var record in _store.ReadAsync(_tenant, first, first + Math.Clamp(count, 1, 1000) - 1))
        {
            records.Add(new AuditRecordInfo { Sequence = record.Sequence, EventJson = record.EventJson, Hash = record.Hash, PreviousHash = record.PreviousHash });
        }

        return records;
    }

    public async Task<AuditVerification> VerifyAsync()
    {
        // Everything from storage, nothing from this activation's memory: verification must see what is stored.
        var head = await _store.ReadHeadAsync(_tenant);
        var checkpoints = await _store.ReadCheckpointsAsync(_tenant);
        var records = new List<AuditRecord>();
        await foreach (var record in _store.ReadAsync(_tenant, 1, long.MaxValue))
        {
            records.Add(record);
        }

        var verification = AuditVerifier.Verify(_tenant, records, head is null ? null : (head.Sequence, head.Hash), checkpoints, _key.Trusted);
        _lastVerification = new LastAuditVerification { Verification = verification, At = _time.GetUtcNow() };
        return verification;
    }

    public Task<LastAuditVerification?> GetLastVerificationAsync() => Task.FromResult(_lastVerification);

    public async Task<AuditCheckpointInfo?> CheckpointAsync()
    {
        if (_last == 0)
        {
            return null;
        }

        var root = _tree.Root();
        var document = SignCheckpoint(_last, root, _lastHash);
        await _store.AppendCheckpointAsync(_tenant, _last, document);
        _lastCheckpoint = _last;
        return new AuditCheckpointInfo { Size = _last, RootHash = Convert.ToHexStringLower(root), Document = document };
    }

    private string SignCheckpoint(long size, byte[] root, string chainHash) =>
        new DocumentSigner(DocumentTypes.Checkpoint)
            .Add("tenantId", _tenant)
            .Add("size", DocumentSigner.Number(size))
            .Add("rootHash", Convert.ToHexStringLower(root))
            .Add("chainHash", chainHash)
            .Add("issuedAt", DocumentTime.WholeSeconds(_time.GetUtcNow()))
            .Sign(_key.Key);

    public async Task<AuditProof> ProveInclusionAsync(long sequence, long treeSize)
    {
        if (sequence < 1 || sequence > treeSize || treeSize > _last)
        {
            return new AuditProof { Problem = $"need 1 <= sequence <= treeSize <= {_last}" };
        }

        var leaves = await LeavesAsync(treeSize);
        return new AuditProof
        {
            Available = true,
            LeafHash = Convert.ToHexStringLower(leaves[(int)sequence - 1]),
            Root = Convert.ToHexStringLower(MerkleProofs.Root(leaves, treeSize)),
            Nodes = MerkleProofs.Inclusion(leaves, sequence - 1, treeSize).Select(Convert.ToHexStringLower).ToArray(),
        };
    }

    public async Task<AuditProof> ProveConsistencyAsync(long oldSize, long newSize)
    {
        if (oldSize < 1 || oldSize > newSize || newSize > _last)
        {
            return new AuditProof { Problem = $"need 1 <= oldSize <= newSize <= {_last}" };
        }

        var leaves = await LeavesAsync(newSize);
        return new AuditProof
        {
            Available = true,
            OldRoot = Convert.ToHexStringLower(MerkleProofs.Root(leaves, oldSize)),
            Root = Convert.ToHexStringLower(MerkleProofs.Root(leaves, newSize)),
            Nodes = MerkleProofs.Consistency(leaves, oldSize, newSize).Select(Convert.ToHexStringLower).ToArray(),
        };
    }

    public Task<AuditHeadInfo> GetHeadAsync() => Task.FromResult(new AuditHeadInfo
    {
        LastSequence = _last,
        LastHash = _last == 0 ? null : _lastHash,
        LastCheckpointSize = _lastCheckpoint,
        AuditDid = _key.Key.Did.Value,
    });

    // ---- Detection ---------------------------------------------------------------------------------------------

    private async Task DetectAsync(IReadOnlyList<SecurityEvent> events)
    {
        foreach (var e in events)
        {
            foreach (var detection in _detection.Observe(e, _rules))
            {
                var action = detection.Quarantine ? "quarantine" : "none";
                Log.DetectionFired(_logger, _tenant, detection.Rule, detection.AgentId, detection.Count);
                _metrics.DetectionsFired.Add(1, new KeyValuePair<string, object?>("rule", detection.Rule));
                if (detection.Quarantine)
                {
                    await GrainFactory.GetGrain<IAgentKernelGrain>(AgentKey.Of(_tenant, detection.AgentId))
                        .QuarantineByRuleAsync(detection.Rule, $"{detection.Count} {e.Type} events within the rule's window");
                }

                await _events.PublishAsync(_tenant, [_events.Stamp(new AlertEvent
                {
                    Id = string.Empty,
                    Type = SecurityEventTypes.AlertRaised,
                    TenantId = _tenant,
                    AgentId = detection.AgentId,
                    Reason = detection.Rule,
                    Count = detection.Count,
                    Action = action,
                    Message = $"{detection.Rule}: {detection.Count} {e.Type} events by {detection.AgentId}",
                })]);
            }
        }
    }

    private async Task CheckpointIfDueAsync(CancellationToken cancellation)
    {
        if (_last > _lastCheckpoint)
        {
            try
            {
                await CheckpointAsync();
            }
#pragma warning disable CA1031 // The next interval tries again.
            catch (Exception e)
#pragma warning restore CA1031
            {
                Log.AuditAppendFailed(_logger, e, _tenant);
            }
        }
    }

    /// <summary>The tree read back from the records, when the head's frontier is missing or does not fit its size.</summary>
    private async Task<MerkleAccumulator> RebuildTreeAsync(long size, CancellationToken cancellation)
    {
        var tree = new MerkleAccumulator();
        await foreach (var record in _store.ReadAsync(_tenant, 1, size, cancellation))
        {
            tree.Append(AuditChain.LeafHash(record.Sequence, record.EventJson));
        }

        return tree;
    }

    private async Task<List<byte[]>> LeavesAsync(long size)
    {
        var leaves = new List<byte[]>();
        await foreach (var record in _store.ReadAsync(_tenant, 1, size))
        {
            leaves.Add(AuditChain.LeafHash(record.Sequence, record.EventJson));
        }

        return leaves;
    }

    private void Remember(string id)
    {
        if (_recent.Add(id))
        {
            _recentOrder.Enqueue(id);
            if (_recentOrder.Count > RecentIds)
            {
                _recent.Remove(_recentOrder.Dequeue());
            }
        }
    }
}

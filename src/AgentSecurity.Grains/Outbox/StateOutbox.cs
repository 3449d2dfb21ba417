using AgentSecurity.Abstractions.Audit;
using AgentSecurity.Grains.Audit;
using AgentSecurity.Grains.Telemetry;
using Microsoft.Extensions.Logging;
using Orleans.Core;
using Orleans.Serialization;

namespace AgentSecurity.Grains.Outbox;

/// <summary>
/// The one way a grain changes its stored state: a change is made on a copy of the state and written together with the
/// security events it causes; only once the write succeeds does the copy become the state, and the events are published
/// before the caller hears of the change. A failed write leaves the state as it was (nothing half-applied, no undo to
/// write by hand) and the activation ends when idle, so the next one reads the truth and a fresh ETag. Events that
/// could not be published stay in the stored outbox, retried while the grain is active and by its next activation.
/// A write failure is logged by <c>logWriteFailure</c> with the grain's key: a static lambda, not one closing over the
/// grain, so that no grain keeps a delegate of its own for it (bytes per active agent count).
/// </summary>
internal sealed class StateOutbox<TState>(
    IGrainBase grain,
    IStorage<TState> storage,
    DeepCopier<TState> copier,
    AuditEvents audit,
    string tenantId,
    ILogger logger,
    Action<ILogger, Exception, string> logWriteFailure)
    where TState : class, IOutboxState
{
    /// <summary>How often an outbox that could not be published is tried again while the grain is active.</summary>
    public static readonly TimeSpan RetryInterval = TimeSpan.FromSeconds(5);

    private IGrainTimer? _retry;

    // Writes go one at a time (a grain's background work may write while a request does): each waits for the last.
    private Task _lastWrite = Task.CompletedTask;

    // Counts commits, so that the last one knows it is the last and lets go of itself when done.
    private long _writes;

    /// <summary>Reads the state from storage (at activation, before anything uses it); a failed read throws.</summary>
    public Task ReadAsync() => storage.ReadStateAsync();

    /// <summary>The state as last written (or read). Change it only through <see cref="CommitAsync"/>.</summary>
    public TState State => storage.State;

    /// <summary>
    /// Writes <paramref name="change"/> with <paramref name="events"/>, after any write still under way, then publishes
    /// them. False when the write failed: the state is then exactly as before.
    /// </summary>
    public Task<bool> CommitAsync(Action<TState> change, params SecurityEvent[] events)
    {
        var write = CommitAfterAsync(_lastWrite, change, events, ++_writes);
        _lastWrite = write.IsCompleted ? Task.CompletedTask : write;
        return write;
    }

    private async Task<bool> CommitAfterAsync(Task previous, Action<TState> change, SecurityEvent[] events, long write)
    {
        await previous; // never faults: a commit answers false instead
        try
        {
            return await WriteAsync(change, events);
        }
        finally
        {
            // A finished write is not kept: it holds its change, events and the state it replaced, for every active grain.
            if (_writes == write)
            {
                _lastWrite = Task.CompletedTask;
            }
        }
    }

    private async Task<bool> WriteAsync(Action<TState> change, SecurityEvent[] events)
    {
        var before = storage.State;
        try
        {
            var after = before is ISharingCopyState<TState> sharing ? sharing.CopyForChange(copier) : copier.Copy(before);
            change(after);
            if (events.Length > 0)
            {
                after.AddPendingEvents(events.Select(SecurityEventJson.Write));
            }
            storage.State = after;
            await storage.WriteStateAsync();
        }
#pragma warning disable CA1031 // Any failure (of storage, or of the change itself) refuses the change; the caller answers unavailable.
        catch (Exception e)
#pragma warning restore CA1031
        {
            storage.State = before;
            logWriteFailure(logger, e, grain.GrainContext.GrainId.Key.ToString()!);
            grain.DeactivateOnIdle(); // the stored ETag may be stale now; a fresh activation reads the truth
            return false;
        }

        await FlushAsync();
        return true;
    }

    /// <summary>Publishes the outbox; what is published leaves it (the stored copy empties with the next write).</summary>
    public async Task FlushAsync()
    {
        if (State.PendingEvents.Count == 0)
        {
            return;
        }

        var pending = State.PendingEvents.ToList();

        try
        {
            await audit.PublishAsync(tenantId, pending.Select(SecurityEventJson.Read).ToList());
            var published = pending.ToHashSet(StringComparer.Ordinal);
            State.RemovePendingEvents(published); // a write meanwhile may have replaced the state's copy
            _retry?.Dispose();
            _retry = null;
        }
#pragma warning disable CA1031 // The events stay in the (stored) outbox: retried while active, and by the next activation.
        catch (Exception e)
#pragma warning restore CA1031
        {
            Log.AuditPublishFailed(logger, e, grain.GrainContext.GrainId.ToString());
            _retry ??= grain.RegisterGrainTimer(_ => FlushAsync(), new GrainTimerCreationOptions(RetryInterval, RetryInterval) { Interleave = false, KeepAlive = true });
        }
    }
}

using System.Collections.Concurrent;
using AgentSecurity.Abstractions;
using AgentSecurity.Grains.Agents;
using AgentSecurity.Grains.Audit;
using AgentSecurity.Grains.Permissions;
using AgentSecurity.Grains.Quotas;
using AgentSecurity.Grains.Telemetry;
using AgentSecurity.Grants.Policy;
using Microsoft.Extensions.DependencyInjection;

namespace AgentSecurity.Grains.Execution;

/// <summary>
/// The local path of host calls' checks. A sandbox runs on the silo of its agent's grain, so a host call need not be an
/// Orleans message to be decided by the grain: the grain publishes, in its own turn, an immutable picture of what decides
/// (the active grant's compiled policy, taken only while the agent is in good standing, and the kinds of host call that
/// no limit meters), and a host call of such a kind on a sandbox thread that this picture allows is allowed without a
/// message. Everything else (a denial, anything metered, an elevation, a picture that is no longer the grain's) is a
/// check on the grain as before, so the grain stays the single decider and the single recorder of denials.
/// </summary>
/// <remarks>
/// Why a published picture rather than a cheaper grain call or a work item on the grain's scheduler: both of those still
/// hand the call to another thread and back (two thread switches, most of the cost on a busy machine), and a work item
/// scheduled on the grain bypasses its non-reentrancy, under which metering and audit are written. The picture is never
/// stale: every change of the grant, state, revocations, elevations or limits moves a version
/// (<see cref="AgentPermissions.Version"/>, <see cref="AgentMetering.Version"/>) in the turn that makes it, before the
/// grain answers; a host call compares both versions with the picture's before it decides, so a host call that starts
/// after a revocation, replacement or quarantine returned goes to the grain, which denies it. Expiry is the compiled
/// policy's own time check against the kernel's clock. Nothing is metered here (a kind some limit meters is always the
/// grain's), and allowed calls are counted for the audit's summaries per picture, atomically, and handed to the grain's
/// <see cref="AgentAudit.RecordAllowed"/> in its own turn: none lost, none counted twice.
/// </remarks>
internal sealed class HostCallDecisions(AgentContext agent, IGrainContext grain, AgentPermissions permissions, AgentMetering metering, AgentAudit audit)
{
    /// <summary>The capabilities host calls check, each counted in its own slot of a picture.</summary>
    private static readonly string[] HostCapabilities =
        [Capabilities.FileSystemRead, Capabilities.FileSystemWrite, Capabilities.NetworkOutbound, Capabilities.Llm, Capabilities.VectorDb];

    private static readonly CheckKind[] HostKinds = [.. HostCapabilities.Select(c => CheckKinds.TryParse(c, out var kind) ? kind : throw new InvalidOperationException($"{c} is no check kind"))];

    private readonly ConcurrentQueue<Picture> _uncounted = new();

    // Makes "not closed" and "counted" one step for a host call, against Close: a count is either drained by Close or
    // never taken (the call then goes to the grain), never left on an activation that is gone.
    private readonly Lock _gate = new();
    private Picture? _picture;
    private bool _started;
    private int _publishQueued;
    private int _countQueued;
    private bool _closed;

    /// <summary>
    /// Publishes a picture, in the grain's own turn (checked: the current activation is this grain's, not merely some
    /// scheduler other than the thread pool's); anywhere else nothing is published and every host call is a grain call.
    /// </summary>
    public void Start()
    {
        if (ReferenceEquals(grain.ActivationServices.GetService<IGrainContextAccessor>()?.GrainContext, grain))
        {
            _started = true;
            Publish();
        }
    }

    /// <summary>
    /// Allows a host call's check locally, or says the grain must decide it (null). <paramref name="stale"/> says the
    /// picture was out of date: the caller asks for a new one once the grain has decided (and loaded what it needed).
    /// On a sandbox thread.
    /// </summary>
    public Decision? TryAllow(string capability, string? resource, out bool stale)
    {
        stale = false;
        var slot = Array.IndexOf(HostCapabilities, capability);
        var picture = Volatile.Read(ref _picture);
        if (slot < 0 || picture is null || Volatile.Read(ref _closed))
        {
            return null;
        }

        var now = agent.Now;
        if (picture.PermissionsVersion != permissions.Version || picture.MeteringVersion != metering.Version || now >= picture.Until)
        {
            stale = true;
            return null;
        }

        // After the versions: a picture that sends a metered kind to the grain must still be found out of date, so that a
        // change that unmeters it (a grant without the limit) brings the local path back.
        if ((picture.UnmeteredSlots & (1 << slot)) == 0 || picture.Grant is not { } grant || !grant.Policy.Decide(HostKinds[slot], resource, now).Allowed)
        {
            return null;
        }

        var schedule = false;
        lock (_gate)
        {
            if (_closed)
            {
                return null;
            }

            Interlocked.Increment(ref picture.Allowed[slot]);
            if (Interlocked.Exchange(ref picture.Queued, 1) == 0)
            {
                _uncounted.Enqueue(picture);
                schedule = Interlocked.Exchange(ref _countQueued, 1) == 0;
            }
        }

        if (schedule)
        {
            Schedule(RecordAllowed);
        }

        return grant.Allowed;
    }

    /// <summary>Asks the grain for a new picture, once at a time; from a sandbox thread.</summary>
    public void Refresh()
    {
        if (Volatile.Read(ref _started) && Interlocked.Exchange(ref _publishQueued, 1) == 0)
        {
            Schedule(() =>
            {
                Volatile.Write(ref _publishQueued, 0);
                Publish();
            });
        }
    }

    /// <summary>
    /// Hands the allowed calls counted so far to the audit, as the grain's own allowed checks. In the grain's turn:
    /// scheduled by the first count of a picture, and at the end of every execution and of the activation.
    /// </summary>
    public void RecordAllowed()
    {
        Volatile.Write(ref _countQueued, 0);

        // The only consumer (always in the grain's turn), so the picture peeked is the one dequeued after its counts.
        while (_uncounted.TryPeek(out var picture))
        {
            // Cleared before the counts are taken: a count that lands between queues the picture again, so it is
            // recorded by the next pass (an empty pass costs nothing); none is taken twice. A count taken is with the
            // audit before anything there can fail, and the picture leaves the queue only after all its slots: a
            // failure loses no count, what was not taken waits for the next pass (Close's at the latest).
            Interlocked.Exchange(ref picture.Queued, 0);
            for (var slot = 0; slot < HostCapabilities.Length; slot++)
            {
                var count = Interlocked.Exchange(ref picture.Allowed[slot], 0);
                if (count > 0)
                {
                    audit.RecordAllowed(HostCapabilities[slot], picture.Grant!.GrantId, count);
                }
            }

            _uncounted.TryDequeue(out _);
        }
    }

    /// <summary>The activation ends: from now on every host call is a grain call, and what was counted is recorded.</summary>
    public void Close()
    {
        lock (_gate)
        {
            _closed = true;
        }

        RecordAllowed(); // after the lock: every count taken before it is queued by now

    }

    /// <summary>
    /// Makes the picture from the grain's state, in its turn: the active grant and the kinds of host call nothing meters
    /// when the agent may act and some kind is unmetered, else a picture that sends every call to the grain (so that a
    /// metered agent does not ask for pictures anew).
    /// </summary>
    private void Publish()
    {
        var (permissionsVersion, meteringVersion) = (permissions.Version, metering.Version);
        var local = permissions is { IsChanging: false, Problem: null, Active: not null, State: AgentState.Active, IsActiveRevoked: false };
        var unmetered = 0;
        var until = DateTimeOffset.MaxValue;
        for (var slot = 0; slot < HostKinds.Length; slot++)
        {
            unmetered |= metering.IsUnmetered(HostKinds[slot], out until) ? 1 << slot : 0;
        }

        Volatile.Write(ref _picture, local && unmetered != 0
            ? new Picture(permissions.Active, until, permissionsVersion, meteringVersion, unmetered)
            : new Picture(null, DateTimeOffset.MaxValue, permissionsVersion, meteringVersion, 0));
    }

    /// <summary>
    /// Runs grain-side work in the grain's turn, on its activation's own scheduler, from a sandbox thread; a failure is
    /// logged (no sandbox thread waits for it). Without the sandbox thread's ExecutionContext: its kernel scope, host-call
    /// span and the executing caller's RequestContext belong to that call, not to grain work or a timer registered there.
    /// </summary>
    private void Schedule(Action work)
    {
        var flow = ExecutionContext.IsFlowSuppressed() ? (AsyncFlowControl?)null : ExecutionContext.SuppressFlow();
        try
        {
            grain.Scheduler.QueueAction(() =>
            {
                try
                {
                    work();
                }
#pragma warning disable CA1031 // A picture not published leaves host calls to grain calls; counts lost are summaries' loss.
                catch (Exception e)
#pragma warning restore CA1031
                {
                    Log.HostCallDecisionsFailed(agent.Logger, e, agent.Key);
                }
            });
        }
        finally
        {
            flow?.Undo();
        }
    }

    /// <summary>What decides, as the grain saw it when it published, and the calls allowed on it not yet recorded.</summary>
    private sealed class Picture(ActiveGrant? grant, DateTimeOffset until, int permissionsVersion, int meteringVersion, int unmeteredSlots)
    {
        public readonly long[] Allowed = new long[HostCapabilities.Length];
        public int Queued;

        public ActiveGrant? Grant { get; } = grant;

        public DateTimeOffset Until { get; } = until;

        public int PermissionsVersion { get; } = permissionsVersion;

        public int MeteringVersion { get; } = meteringVersion;

        /// <summary>The slots of the kinds of host call no limit meters (a bit each): the only ones allowed here.</summary>
        public int UnmeteredSlots { get; } = unmeteredSlots;
    }
}

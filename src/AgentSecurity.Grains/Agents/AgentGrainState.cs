using AgentSecurity.Abstractions;
using AgentSecurity.Grains.Outbox;
using AgentSecurity.Grains.Permissions;
using AgentSecurity.Grains.Quotas;
using Orleans.Serialization;

namespace AgentSecurity.Grains.Agents;

/// <summary>What an agent grain persists. Grants are kept as the signed documents themselves and re-verified on load.</summary>
[GenerateSerializer, Alias("agentsec.AgentGrainState.v1")]
public sealed class AgentGrainState : IOutboxState, ISharingCopyState<AgentGrainState>
{
    // The text as what rebuilds it exactly (RebuiltGrantText: the active grant, a template shared between agents and the
    // signature), about 100 bytes; or, for a text that does not rebuild exactly or before the grant is compiled (a load),
    // compressed (Brotli over its UTF-8: a typical grant's 770 characters, 1.5 KB as a string, in about 450 bytes; see
    // CompactText for the cost and the failure mode). One field for either (a RebuiltGrantText or the compact bytes):
    // every field is 8 bytes of every active agent.
    [NonSerialized]
    private object? _grant;

    /// <summary>
    /// The active grant's canonical signed text; null when the agent has never had one. Stored, serialized and copied as
    /// the string it always was (the same JSON member, the same <c>[Id]</c>), so states written before load as they did.
    /// Each read makes a new string: read it where it is needed (a write, a delegation), not per check.
    /// </summary>
    [Id(0)]
    public string? GrantDocument
    {
        get => _grant switch
        {
            RebuiltGrantText rebuilt => rebuilt.Text(),
            byte[] compact => CompactText.Read(compact),
            _ => null,
        };
        set => _grant = value is null ? null : CompactText.Write(value);
    }

    /// <summary>Whether the agent has a grant text, without reading it back.</summary>
    public bool HasGrantDocument => _grant is not null;

    /// <summary>
    /// Sets the text with the form that rebuilds it, when there is one (<see cref="RebuiltGrantText.For"/> made it for
    /// exactly this text); else the text is held compressed.
    /// </summary>
    internal void SetGrantDocument(string text, RebuiltGrantText? rebuilt)
    {
        if (rebuilt is null)
        {
            GrantDocument = text;
        }
        else
        {
            _grant = rebuilt;
        }
    }

    /// <summary>
    /// Holds the text read from storage as the form that rebuilds it (made for exactly that text): the same text, so no
    /// write; the compressed copy read at activation goes.
    /// </summary>
    internal void HoldRebuilt(RebuiltGrantText rebuilt) => _grant = rebuilt;

    /// <summary>
    /// The generated copier's copy, sharing the compact text, the lists and the reservations: none is ever changed in
    /// place (a change sets a new one). Through the properties every write would decompress and compress the grant again
    /// (tens of microseconds and an encoder's native buffers), a quota reservation's write on the check path among them,
    /// and make and copy a dictionary and lists.
    /// </summary>
    public AgentGrainState CopyForChange(DeepCopier<AgentGrainState> copier)
    {
        var (grant, previous, elevations, pending, replaced, quotas) = (_grant, _previousGrantIds, _elevations, _pendingEvents, _replacedInActiveSecond, _quotas);
        (_grant, _previousGrantIds, _elevations, _pendingEvents, _replacedInActiveSecond, _quotas) = (null, null, null, null, null, null); // the grain's turn: nothing else reads this state meanwhile
        try
        {
            var copy = copier.Copy(this);
            (copy._grant, copy._previousGrantIds, copy._elevations, copy._pendingEvents, copy._replacedInActiveSecond, copy._quotas) = (grant, previous, elevations, pending, replaced, quotas);
            return copy;
        }
        finally
        {
            (_grant, _previousGrantIds, _elevations, _pendingEvents, _replacedInActiveSecond, _quotas) = (grant, previous, elevations, pending, replaced, quotas);
        }
    }

    [Id(1)] public long Version { get; set; }

    [Id(2)] public AgentState State { get; set; }

    // The lists below stay empty for most agents, and each empty List<string> was 32 bytes of every active agent's state.
    // They are held as exact arrays, null while empty, behind the same members: stored and copied as lists of strings (an
    // empty one as [], as before), so states stored before load as they did, and states stored now load in the code
    // before. A change replaces a list whole; nothing changes one in place.
    [NonSerialized] private string[]? _previousGrantIds;
    [NonSerialized] private string[]? _elevations;
    [NonSerialized] private string[]? _pendingEvents;
    [NonSerialized] private string[]? _replacedInActiveSecond;

    // The stored reservations, a few structs in one array rather than a dictionary of records (about 300 bytes for two).
    [NonSerialized] private BucketEntry[]? _quotas;

    /// <summary>Ids of previously active grants, newest first, at most <see cref="AgentSecurityOptions.GrantHistoryLength"/>.</summary>
    [Id(3)]
    public IReadOnlyList<string> PreviousGrantIds
    {
        get => _previousGrantIds ?? [];
        set => _previousGrantIds = Exact(value);
    }

    /// <summary>Why the agent is quarantined (or was last released).</summary>
    [Id(4)] public string? QuarantineReason { get; set; }

    /// <summary>
    /// When the last quarantine or release document was issued: an older one (a replayed release, say) is stale.
    /// </summary>
    [Id(5)] public DateTimeOffset? QuarantineIssuedAt { get; set; }

    /// <summary>Canonical signed texts of the elevations (answers to permission requests) not yet expired, at most eight.</summary>
    [Id(6)]
    public IReadOnlyList<string> Elevations
    {
        get => _elevations ?? [];
        set => _elevations = Exact(value);
    }

    /// <summary>
    /// Reservations of the grant's rate limits, by wire name (see <see cref="Quotas.ReservedBucket"/>). Stored as the
    /// dictionary it always was; each read makes one (a load, a write), so change it with <see cref="SetQuota"/>.
    /// </summary>
    [Id(7)]
    public IReadOnlyDictionary<string, BucketRecord> Quotas
    {
        get => BucketEntry.ToDictionary(_quotas);
        set => _quotas = BucketEntry.FromDictionary(value);
    }

    /// <summary>Sets the stored reservation of one limit (by its wire name), keeping the others and their order.</summary>
    public void SetQuota(string limit, BucketRecord record) => _quotas = BucketEntry.With(_quotas, limit, record);

    /// <inheritdoc />
    [Id(8)]
    public IReadOnlyList<string> PendingEvents
    {
        get => _pendingEvents ?? [];
        set => _pendingEvents = Exact(value);
    }

    /// <inheritdoc />
    public void AddPendingEvents(IEnumerable<string> events) => PendingEvents = [.. PendingEvents, .. events];

    /// <inheritdoc />
    public void RemovePendingEvents(IReadOnlySet<string> published) => PendingEvents = [.. PendingEvents.Where(e => !published.Contains(e))];

    /// <summary>
    /// Ids of the grants replaced on this agent that were issued in the same second as the active grant. Issue times
    /// order grants to the second only: these say which grants of that second came before the active one, so none can
    /// be applied again however long ago <see cref="PreviousGrantIds"/> forgot it. Emptied when a later second's grant
    /// applies (an earlier second's grant is refused by its time alone); at most <see cref="Permissions.AgentGrants.MaxReplacementsInOneSecond"/>.
    /// </summary>
    [Id(9)]
    public IReadOnlyList<string> ReplacedInActiveSecond
    {
        get => _replacedInActiveSecond ?? [];
        set => _replacedInActiveSecond = Exact(value);
    }

    // Always a copy: a caller's array kept as it is would stay theirs to change, under a state whose copies share it.
    private static string[]? Exact(IReadOnlyList<string>? value) => value is null || value.Count == 0 ? null : [.. value];
}

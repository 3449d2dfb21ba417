using AgentSecurity.Abstractions;
using AgentSecurity.Grains.Outbox;
using Orleans.Serialization;

namespace AgentSecurity.Grains.Agents;

/// <summary>What an agent grain persists. Grants are kept as the signed documents themselves and re-verified on load.</summary>
[GenerateSerializer, Alias("agentsec.AgentGrainState.v1")]
public sealed class AgentGrainState : IOutboxState, ISharingCopyState<AgentGrainState>
{
    // Held compressed (Brotli over its UTF-8), not as the UTF-16 string it is stored as: it is the largest thing an
    // active agent keeps, and a typical grant's 770 characters (1.5 KB as a string) take about 450 bytes so. See
    // CompactText for the cost and the failure mode.
    [NonSerialized]
    private byte[]? _grantDocument;

    /// <summary>
    /// The active grant's canonical signed text; null when the agent has never had one. Stored, serialized and copied as
    /// the string it always was (the same JSON member, the same <c>[Id]</c>), so states written before load as they did.
    /// Each read makes a new string: read it where it is needed (a write, a delegation), not per check.
    /// </summary>
    [Id(0)]
    public string? GrantDocument
    {
        get => _grantDocument is null ? null : CompactText.Read(_grantDocument);
        set => _grantDocument = value is null ? null : CompactText.Write(value);
    }

    /// <summary>Whether the agent has a grant text, without reading it back.</summary>
    public bool HasGrantDocument => _grantDocument is not null;

    /// <summary>
    /// The generated copier's copy, sharing the compact text: its bytes are never changed in place (a new text is new
    /// bytes), and through the property every write would decompress and compress the grant again (tens of microseconds
    /// and an encoder's native buffers), a quota reservation's write on the check path among them.
    /// </summary>
    public AgentGrainState CopyForChange(DeepCopier<AgentGrainState> copier)
    {
        var text = _grantDocument;
        _grantDocument = null; // the grain's turn: nothing else reads this state meanwhile
        try
        {
            var copy = copier.Copy(this);
            copy._grantDocument = text;
            return copy;
        }
        finally
        {
            _grantDocument = text;
        }
    }

    [Id(1)] public long Version { get; set; }

    [Id(2)] public AgentState State { get; set; }

    /// <summary>Ids of previously active grants, newest first, at most <see cref="AgentSecurityOptions.GrantHistoryLength"/>.</summary>
    [Id(3)] public List<string> PreviousGrantIds { get; set; } = [];

    /// <summary>Why the agent is quarantined (or was last released).</summary>
    [Id(4)] public string? QuarantineReason { get; set; }

    /// <summary>
    /// When the last quarantine or release document was issued: an older one (a replayed release, say) is stale.
    /// </summary>
    [Id(5)] public DateTimeOffset? QuarantineIssuedAt { get; set; }

    /// <summary>Canonical signed texts of the elevations (answers to permission requests) not yet expired, at most eight.</summary>
    [Id(6)] public List<string> Elevations { get; set; } = [];

    /// <summary>Reservations of the grant's rate limits, by wire name (see <see cref="Quotas.ReservedBucket"/>).</summary>
    [Id(7)] public Dictionary<string, Quotas.BucketRecord> Quotas { get; set; } = new(StringComparer.Ordinal);

    /// <inheritdoc />
    [Id(8)] public List<string> PendingEvents { get; set; } = [];

    /// <summary>
    /// Ids of the grants replaced on this agent that were issued in the same second as the active grant. Issue times
    /// order grants to the second only: these say which grants of that second came before the active one, so none can
    /// be applied again however long ago <see cref="PreviousGrantIds"/> forgot it. Emptied when a later second's grant
    /// applies (an earlier second's grant is refused by its time alone); at most <see cref="Permissions.AgentGrants.MaxReplacementsInOneSecond"/>.
    /// </summary>
    [Id(9)] public List<string> ReplacedInActiveSecond { get; set; } = [];
}

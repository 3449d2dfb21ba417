using AgentSecurity.Abstractions.Boundary;
using AgentSecurity.Grants.Access;
using AgentSecurity.Grants.Documents;

namespace AgentSecurity.Grains.Boundary;

/// <summary>
/// Who may call for one tenant (or, for the operator's registry, for every tenant), as a silo keeps it: roots, admins
/// with their ends, and access documents by principal. Read in nanoseconds; built from what the issuer verified.
/// </summary>
internal sealed class CallerSnapshot
{
    public static readonly CallerSnapshot Empty = new(false, [], new Dictionary<string, DateTimeOffset>(), new Dictionary<string, AccessDocument[]>(), 0);

    private readonly HashSet<string> _roots;
    private readonly IReadOnlyDictionary<string, DateTimeOffset> _admins;
    private readonly IReadOnlyDictionary<string, AccessDocument[]> _access;

    private CallerSnapshot(bool exists, HashSet<string> roots, IReadOnlyDictionary<string, DateTimeOffset> admins, IReadOnlyDictionary<string, AccessDocument[]> access, long loadedAt)
    {
        Exists = exists;
        _roots = roots;
        _admins = admins;
        _access = access;
        LoadedAt = loadedAt;
    }

    public bool Exists { get; }

    /// <summary>When it was read (<see cref="System.Diagnostics.Stopwatch"/> ticks: a cache's age is real time, not the kernel's clock).</summary>
    public long LoadedAt { get; }

    public static CallerSnapshot Of(TenantCallers callers, long loadedAt) => new(
        callers.Exists,
        callers.RootDids.ToHashSet(StringComparer.Ordinal),
        callers.Admins.ToDictionary(a => a.Did, a => a.ExpiresAt, StringComparer.Ordinal),
        Index(callers.AccessDocuments),
        loadedAt);

    public static CallerSnapshot OfRegistry(IReadOnlyList<string> accessDocuments, long loadedAt) =>
        new(true, [], new Dictionary<string, DateTimeOffset>(), Index(accessDocuments), loadedAt);

    /// <summary>A root, or an admin whose registration is in force: everything within the tenant.</summary>
    public bool IsRootOrAdmin(string principal, DateTimeOffset now) =>
        _roots.Contains(principal) || (_admins.TryGetValue(principal, out var end) && end > now);

    /// <summary>
    /// Whether an access document in force gives <paramref name="principal"/> the right over <paramref name="agentId"/>
    /// (null: the whole tenant, which only a document without an agents list covers).
    /// </summary>
    public bool Allows(string principal, AccessRights right, string? agentId, DateTimeOffset now) =>
        _access.TryGetValue(principal, out var documents) &&
        documents.Any(d => d.ExpiresAt > now && (d.Allow & right) == right && d.Covers(agentId));

    private static Dictionary<string, AccessDocument[]> Index(IEnumerable<string> texts) => texts
        .Select(t => AccessDocument.Parse(t))
        .Where(r => r.Succeeded)
        .Select(r => r.Value)
        .GroupBy(d => d.PrincipalDid.Value, StringComparer.Ordinal)
        .ToDictionary(g => g.Key, g => g.ToArray(), StringComparer.Ordinal);
}

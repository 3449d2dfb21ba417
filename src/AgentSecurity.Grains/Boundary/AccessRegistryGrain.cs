using AgentSecurity.Abstractions;
using AgentSecurity.Abstractions.Boundary;
using AgentSecurity.Abstractions.Kernel;
using AgentSecurity.Grants;
using AgentSecurity.Grants.Documents;
using AgentSecurity.Grants.Identity;
using AgentSecurity.Grants.Verification;
using AgentSecurity.Grains.Audit;
using AgentSecurity.Grains.Outbox;
using AgentSecurity.Grains.Telemetry;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Serialization;

namespace AgentSecurity.Grains.Boundary;

/// <summary>What the operator's registry of access documents for every tenant stores.</summary>
[GenerateSerializer, Alias("agentsec.AccessRegistryState.v1")]
public sealed class AccessRegistryState : IOutboxState
{
    /// <summary>Signed access documents for <c>"*"</c>, by access id, until they expire or are revoked.</summary>
    [Id(0)] public Dictionary<string, string> Documents { get; set; } = new(StringComparer.Ordinal);

    /// <summary>Revoked access ids, with the time their document would have expired.</summary>
    [Id(1)] public Dictionary<string, DateTimeOffset> Revoked { get; set; } = new(StringComparer.Ordinal);

    /// <inheritdoc />
    /// <remarks>Always empty: the registry belongs to no tenant, so its changes are logged by the silo, not a tenant's audit stream.</remarks>
    [Id(2)] public List<string> PendingEvents { get; set; } = [];

    IReadOnlyList<string> IOutboxState.PendingEvents => PendingEvents;

    void IOutboxState.AddPendingEvents(IEnumerable<string> events) => PendingEvents.AddRange(events);

    void IOutboxState.RemovePendingEvents(IReadOnlySet<string> published) => PendingEvents.RemoveAll(published.Contains);
}

/// <summary>
/// The operator's access documents for every tenant: accepted only when the operator signed them, ended by an
/// operator-signed revocation (whose <c>tenantId</c> is <c>"*"</c>) naming the access id. Every silo's trust boundary is
/// told of a change before the call that made it returns.
/// </summary>
public sealed class AccessRegistryGrain : Grain, IAccessRegistryGrain
{
    /// <summary>Access documents for every tenant in force at once.</summary>
    public const int MaxDocuments = 256;

    private readonly StateOutbox<AccessRegistryState> _outbox;
    private readonly TimeProvider _time;
    private readonly AgentSecurityOptions _options;
    private readonly DidKey _operator;

    public AccessRegistryGrain(
        [PersistentState("access", StorageNames.Issuers)] IPersistentState<AccessRegistryState> state,
        DeepCopier<AccessRegistryState> copier,
        [FromKeyedServices(KernelClock.ServiceKey)] TimeProvider time,
        IOptions<AgentSecurityOptions> options,
        AuditEvents audit,
        ILogger<AccessRegistryGrain> logger)
    {
        _outbox = new StateOutbox<AccessRegistryState>(this, state, copier, audit, string.Empty, logger, static (log, e, key) => Log.IssuerNotPersisted(log, e, key));
        _time = time;
        _options = options.Value;
        _operator = DidKey.Parse(_options.OperatorDid).Value; // validated at silo start
    }

    private AccessRegistryState State => _outbox.State;

    public async Task<DocumentResult> ApplyAccessAsync(string signedAccess)
    {
        var parsed = AccessDocument.Parse(signedAccess ?? string.Empty);
        if (!parsed.TryGetValue(out var access))
        {
            return DocumentResult.Refuse(parsed.Failure.Code, parsed.Failure.Message);
        }

        var now = _time.GetUtcNow();
        if (Check(access, now) is { } failure)
        {
            return DocumentResult.Refuse(failure.Code, failure.Message);
        }

        if (State.Documents.TryGetValue(access.AccessId, out var stored))
        {
            return stored == access.Envelope.CanonicalText
                ? new DocumentResult { Accepted = true, Unchanged = true }
                : DocumentResult.Refuse(ReasonCodes.Replayed, $"access id {access.AccessId} was already used for another document");
        }

        if (State.Documents.Values.Count(t => InForce(t, now)) >= MaxDocuments)
        {
            return DocumentResult.Refuse(ReasonCodes.QuotaExceeded, $"the operator holds {MaxDocuments} access documents for every tenant; revoke some first");
        }

        if (!await _outbox.CommitAsync(s => Store(s, access, now)))
        {
            return DocumentResult.Refuse(ReasonCodes.Unavailable, "the access document could not be stored");
        }

        await TellSilosAsync();
        return new DocumentResult { Accepted = true };
    }

    public async Task<RevocationResult> RevokeAsync(string signedRevocation)
    {
        var parsed = RevocationDocument.Parse(signedRevocation ?? string.Empty);
        if (!parsed.TryGetValue(out var revocation))
        {
            return new RevocationResult { Error = parsed.Failure.Code, Message = parsed.Failure.Message };
        }

        var failure = revocation.TenantId != AccessDocument.AllTenants
            ? new Failure(ReasonCodes.TenantMismatch, $"a revocation of access for every tenant names tenant \"{AccessDocument.AllTenants}\", not {revocation.TenantId}")
            : !revocation.Envelope.SignedBy.Equals(_operator)
                ? new Failure(ReasonCodes.UntrustedSigner, $"access for every tenant is revoked by the operator {_operator.Value}")
                : DocumentChecks.Signature(revocation.Envelope) ?? DocumentChecks.TimeWindow(revocation.Envelope.IssuedAt, revocation.Envelope.IssuedAt, null, _time.GetUtcNow(), _options.ClockSkew);
        if (failure is not null)
        {
            return new RevocationResult { Error = failure.Code, Message = failure.Message };
        }

        if (!State.Documents.TryGetValue(revocation.GrantId, out var text))
        {
            return State.Revoked.ContainsKey(revocation.GrantId)
                ? new RevocationResult { Revoked = true, GrantIds = [revocation.GrantId], Propagated = true }
                : new RevocationResult { Error = ReasonCodes.UnknownGrant, Message = $"no access document {revocation.GrantId} for every tenant" };
        }

        var expiresAt = AccessDocument.Parse(text).TryGetValue(out var access) ? access.ExpiresAt : DateTimeOffset.MaxValue;
        if (!await _outbox.CommitAsync(s => { s.Documents.Remove(revocation.GrantId); s.Revoked[revocation.GrantId] = expiresAt; }))
        {
            return new RevocationResult { Error = ReasonCodes.Unavailable, Message = "the revocation could not be stored; nothing was revoked" };
        }

        var propagated = await TellSilosAsync();
        return new RevocationResult { Revoked = true, GrantIds = [revocation.GrantId], Propagated = propagated };
    }

    public Task<IReadOnlyList<string>> GetAccessAsync()
    {
        var now = _time.GetUtcNow();
        return Task.FromResult<IReadOnlyList<string>>(State.Documents.Values
            .Where(t => AccessDocument.Parse(t).TryGetValue(out var d) && d.ExpiresAt > now && d.Envelope.HasValidSignature() && d.Envelope.SignedBy.Equals(_operator))
            .ToArray());
    }

    /// <summary>For every tenant, signed by the operator, validly and now, until a time still ahead, never revoked.</summary>
    private Failure? Check(AccessDocument access, DateTimeOffset now)
    {
        if (!access.ForAllTenants)
        {
            return new Failure(ReasonCodes.TenantMismatch, $"the operator's registry holds access for every tenant (\"{AccessDocument.AllTenants}\"); send access for tenant {access.TenantId} to that tenant");
        }

        if (!access.Envelope.SignedBy.Equals(_operator))
        {
            return new Failure(ReasonCodes.UntrustedSigner, $"access for every tenant is signed by the operator {_operator.Value}, not {access.Envelope.SignedBy.Value}");
        }

        var invalid = DocumentChecks.Signature(access.Envelope) ?? DocumentChecks.TimeWindow(access.Envelope.IssuedAt, access.Envelope.IssuedAt, access.ExpiresAt, now, _options.ClockSkew);
        if (invalid is not null)
        {
            return invalid;
        }

        return State.Revoked.ContainsKey(access.AccessId) ? new Failure(ReasonCodes.Revoked, $"access {access.AccessId} was revoked") : null;
    }

    private static bool InForce(string text, DateTimeOffset now) => AccessDocument.Parse(text).TryGetValue(out var d) && d.ExpiresAt > now;

    /// <summary>Stores a document, dropping expired documents and revocations whose documents would have expired.</summary>
    private static void Store(AccessRegistryState state, AccessDocument access, DateTimeOffset now)
    {
        foreach (var id in state.Revoked.Where(p => p.Value <= now).Select(p => p.Key).ToList())
        {
            state.Revoked.Remove(id);
        }

        foreach (var id in state.Documents.Where(p => !InForce(p.Value, now)).Select(p => p.Key).ToList())
        {
            state.Documents.Remove(id);
        }

        state.Documents[access.AccessId] = access.Envelope.CanonicalText;
    }

    private async Task<bool> TellSilosAsync()
    {
        try
        {
            return await GrainFactory.GetGrain<ICallerCacheRegistryGrain>(0).ForgetAsync(IAccessRegistryGrain.Key);
        }
#pragma warning disable CA1031 // The silos' copies age out by themselves.
        catch (Exception)
#pragma warning restore CA1031
        {
            return false;
        }
    }
}

using AgentSecurity.Abstractions;
using AgentSecurity.Grains.Memory;
using AgentSecurity.Grains.Telemetry;
using AgentSecurity.Grants;
using AgentSecurity.Grants.Capabilities;
using AgentSecurity.Grants.Documents;
using AgentSecurity.Grants.Policy;
using AgentSecurity.Grants.Quotas;
using AgentSecurity.Grants.Verification;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace AgentSecurity.Grains.Agents;

/// <summary>
/// One agent: the single writer of its grant, elevations and status, and the decision point of its checks. Grants are
/// verified once, by the tenant's issuer, when applied (and re-verified when loaded from storage); a check is a
/// lookup in memory.
/// </summary>
public sealed class AgentGrain : Grain, IAgentGrain
{
    private const int MaxElevations = 8;
    private const int MaxJustificationLength = 512;

    private readonly IPersistentState<AgentGrainState> _state;
    private readonly TimeProvider _time;
    private readonly AgentSecurityOptions _options;
    private readonly ILogger<AgentGrain> _logger;
    private readonly AgentPermissions _permissions = new();
    private readonly AgentQuotas _quotas = new();
    private readonly IAgentMemoryStore _memory;

    // The agent's memory keys with their sizes, read from the store on the first memory operation.
    private Dictionary<string, long>? _memoryIndex;

    private string _key = string.Empty;
    private string _tenantId = string.Empty;
    private string _agentId = string.Empty;
    private bool _validKey;

    public AgentGrain(
        [PersistentState("agent", StorageNames.Grains)] IPersistentState<AgentGrainState> state,
        [FromKeyedServices(KernelClock.ServiceKey)] TimeProvider time,
        IOptions<AgentSecurityOptions> options,
        IAgentMemoryStore memory,
        ILogger<AgentGrain> logger)
    {
        _state = state;
        _time = time;
        _options = options.Value;
        _memory = memory;
        _logger = logger;
    }

    private AgentGrainState State => _state.State;

    private IGrantIssuerGrain Issuer => GrainFactory.GetGrain<IGrantIssuerGrain>(_tenantId);

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        _key = this.GetPrimaryKeyString();
        _validKey = AgentKey.TryParse(_key, out _tenantId, out _agentId);
        _permissions.State = State.State;
        if (State.GrantDocument is { } stored)
        {
            _permissions.Active = LoadStored(stored, "grant");
            _quotas.Configure(_permissions.Active?.Limits ?? ResourceLimits.None, State.Quotas);
        }

        _permissions.SetElevations(State.Elevations.Select(e => LoadStored(e, "elevation")).OfType<ActiveGrant>());

        // Storage is not trusted on its own: the issuer confirms each live grant read back (same content, accepted by
        // the tenant) and says which were revoked while this agent was not active.
        var now = _time.GetUtcNow();
        var live = new[] { _permissions.Active }.Concat(_permissions.Elevations).OfType<ActiveGrant>().Where(g => g.ExpiresAt > now).ToList();
        if (live.Count > 0)
        {
            var statuses = await Issuer.ConfirmStoredGrantsAsync(live.Select(g => new StoredGrantRef(g.GrantId, g.ContentHash)).ToArray());
            foreach (var status in statuses)
            {
                if (status.State == StoredGrantState.Revoked)
                {
                    _permissions.MarkRevoked(status.GrantId);
                }
                else if (status.State == StoredGrantState.Unknown)
                {
                    _permissions.Problem = $"the stored grant {status.GrantId} is not one the tenant accepted; apply a grant again";
                    Log.StoredGrantRejected(_logger, _key, _permissions.Problem);
                }
            }
        }
    }

    public override async Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        // A clean stop records what was really used, so the next activation does not count unspent reservations.
        var snapshot = _quotas.Snapshot(_time.GetUtcNow()).ToList();
        if (snapshot.Count == 0 || _permissions.Problem is not null)
        {
            return;
        }

        snapshot.ForEach(s => State.Quotas[s.Limit] = s.Record);
        try
        {
            await _state.WriteStateAsync(cancellationToken);
        }
#pragma warning disable CA1031 // Best effort: the last reservation written already bounds what was spent.
        catch (Exception e)
#pragma warning restore CA1031
        {
            Log.QuotaNotPersisted(_logger, e, _key);
        }
    }

    // ---- Decisions -------------------------------------------------------------------------------------------

    public Task<Decision> CheckAsync(CheckRequest request)
    {
        var result = DecideAndMeter(request, _time.GetUtcNow());
        return result.IsCompletedSuccessfully ? Task.FromResult(Recorded(result.Result)) : RecordedAsync(result);
    }

    /// <summary>
    /// The grant decides, then the quotas meter: a denial consumes nothing; an allowed check consumes in the same turn.
    /// Completes synchronously unless a quota needs storage or the tenant first (once per reservation or lease).
    /// </summary>
    private ValueTask<Decision> DecideAndMeter(CheckRequest request, DateTimeOffset now)
    {
        var decision = _permissions.Decide(request, now, _key);
        if (!decision.Allowed || !CheckKinds.TryParse(request.Capability, out var kind))
        {
            return ValueTask.FromResult(decision);
        }

        if (_quotas.TenantLimitsRefreshAt <= now || (kind == CheckKind.MemoryWrite && request.Amount is not null))
        {
            return new ValueTask<Decision>(MeterSlowAsync(decision, kind, request.Amount, now));
        }

        if (_quotas.IsEmpty)
        {
            return ValueTask.FromResult(decision);
        }

        var plan = _quotas.Plan(kind, request.Amount, now);
        if (plan.DenialReason is not null)
        {
            return ValueTask.FromResult(Decision.Deny(plan.DenialReason, plan.DenialMessage!, decision.GrantId));
        }

        if (plan.NeedsAwait)
        {
            return new ValueTask<Decision>(MeterSlowAsync(decision, kind, request.Amount, now));
        }

        _quotas.Commit(plan, now);
        return ValueTask.FromResult(plan.Remaining is null ? decision : decision with { Remaining = plan.Remaining });
    }

    private async Task<Decision> MeterSlowAsync(Decision decision, CheckKind kind, long? amount, DateTimeOffset now)
    {
        if (_quotas.TenantLimitsRefreshAt <= now)
        {
            _quotas.SetTenantLimits(await TenantQuota.GetLimitsAsync(), now + _options.TenantLimitsRefreshInterval);
        }

        if (kind == CheckKind.MemoryWrite && amount is { } bytes && await MemoryLimitFailureAsync(bytes, keysAdded: 0) is { } tooMuch)
        {
            return Decision.Deny(tooMuch.Code, tooMuch.Message, decision.GrantId);
        }

        var plan = _quotas.Plan(kind, amount, now);
        if (plan.DenialReason is not null)
        {
            return Decision.Deny(plan.DenialReason, plan.DenialMessage!, decision.GrantId);
        }

        foreach (var (limit, cost, toLease) in plan.Tenant.Where(t => t.ToLease > 0))
        {
            var lease = await TenantQuota.LeaseAsync(limit.Name(), toLease);
            if (lease.Error is not null)
            {
                return Decision.Deny(ReasonCodes.Unavailable, $"the tenant's {limit.Name()} could not be metered: {lease.Error}", decision.GrantId);
            }

            _quotas.AddLease(limit, lease, now);
            if (lease.Limited && !_quotas.HasLeased(limit, cost, now))
            {
                return Decision.Deny(limit.DenialReason(), $"the tenant's shared {limit.Name()} is spent for now", decision.GrantId);
            }
        }

        if (plan.Reservations.Count > 0)
        {
            var before = plan.Reservations.ToDictionary(r => r.Limit.Name(), r => State.Quotas.GetValueOrDefault(r.Limit.Name()));
            var written = await CommitAsync(
                s => plan.Reservations.ForEach(r => s.Quotas[r.Limit.Name()] = r.Record),
                s =>
                {
                    foreach (var (name, record) in before)
                    {
                        if (record is null)
                        {
                            s.Quotas.Remove(name);
                        }
                        else
                        {
                            s.Quotas[name] = record;
                        }
                    }
                });
            if (!written)
            {
                return Decision.Deny(ReasonCodes.Unavailable, "the quota reservation could not be stored", decision.GrantId);
            }
        }

        // A tenant lease that lapsed while waiting leaves the plan uncovered: re-plan rather than overspend.
        if (plan.Tenant.Exists(t => !_quotas.HasLeased(t.Limit, t.Cost, now)))
        {
            return Decision.Deny(ReasonCodes.RateLimited, "the tenant's shared budget moved; try again", decision.GrantId);
        }

        _quotas.Commit(plan, now);
        return plan.Remaining is null ? decision : decision with { Remaining = plan.Remaining };
    }

    private static Decision Recorded(Decision decision)
    {
        AgentSecurityMetrics.RecordCheck(decision.Reason);
        return decision;
    }

    private static async Task<Decision> RecordedAsync(ValueTask<Decision> pending) => Recorded(await pending);

    private ITenantQuotaGrain TenantQuota => GrainFactory.GetGrain<ITenantQuotaGrain>(_tenantId);

    public Task<Explanation> ExplainAsync(CheckRequest request) => Task.FromResult(_permissions.Explain(request, _time.GetUtcNow(), _key));

    public Task<Explanation> WhatIfAsync(CheckRequest request, string proposedGrant)
    {
        var now = _time.GetUtcNow();
        var terms = GrantTerms.ParseProposal(System.Text.Encoding.UTF8.GetBytes(proposedGrant ?? string.Empty), now);
        if (!terms.Succeeded)
        {
            return Task.FromResult(new Explanation
            {
                Decision = Decision.Deny(terms.Failure!.Code, $"the proposed grant is not valid: {terms.Failure.Message}"),
                DecidedBy = "proposal",
                Suggestion = "fix the proposed grant",
            });
        }

        if (request is null || string.IsNullOrEmpty(request.Capability))
        {
            return Task.FromResult(new Explanation { Decision = Decision.Deny(ReasonCodes.InvalidRequest, "a check needs a capability"), DecidedBy = "request" });
        }

        var explained = GrantExplanation.For(new GrantPolicy(terms.Value, _options.ClockSkew), request.Capability, request.Resource, now);
        var verdict = explained.Decision;
        return Task.FromResult(new Explanation
        {
            Decision = new Decision { Allowed = verdict.Allowed, Reason = verdict.Reason, Message = verdict.Message },
            DecidedBy = $"proposal: {explained.DecidedBy}",
            Suggestion = explained.Suggestion,
        });
    }

    // ---- Grants ----------------------------------------------------------------------------------------------

    public async Task<ApplyGrantResult> ApplyGrantAsync(string signedGrant)
    {
        var (grant, refusal) = Admit(signedGrant);
        var active = _permissions.Active;
        if (grant is not null && active is not null && active.ContentHash != grant.Envelope.ContentHash)
        {
            if (grant.IssuedAt < active.IssuedAt)
            {
                refusal = Refused(ReasonCodes.Stale, $"issued {DocumentTime.ToText(grant.IssuedAt)}, before the active grant {active.GrantId} ({DocumentTime.ToText(active.IssuedAt)})", grant.GrantId);
            }
            else if (State.PreviousGrantIds.Contains(grant.GrantId, StringComparer.Ordinal))
            {
                // Issued in the same second as the grant that replaced it: still a step back.
                refusal = Refused(ReasonCodes.Stale, $"grant {grant.GrantId} was replaced on this agent already", grant.GrantId);
            }
        }

        if (refusal is null)
        {
            var verification = await Issuer.VerifyGrantAsync(signedGrant!);
            refusal = verification.Accepted ? null : Refused(verification.Error!, verification.Message!, grant!.GrantId);
        }

        if (refusal is not null)
        {
            return Refuse(refusal);
        }

        if (_permissions.Active?.ContentHash == grant!.Envelope.ContentHash)
        {
            return Applied(grant.GrantId, unchanged: true);
        }

        var previous = _permissions.Active;
        var written = await CommitAsync(
            s =>
            {
                if (previous is not null)
                {
                    s.PreviousGrantIds.Insert(0, previous.GrantId);
                    s.PreviousGrantIds.RemoveRange(Math.Min(s.PreviousGrantIds.Count, _options.GrantHistoryLength), Math.Max(0, s.PreviousGrantIds.Count - _options.GrantHistoryLength));
                }

                s.GrantDocument = grant.Envelope.CanonicalText;
                s.Version++;
            },
            s =>
            {
                s.GrantDocument = previous?.CanonicalText;
                s.Version--;
                if (previous is not null)
                {
                    s.PreviousGrantIds.RemoveAt(0);
                }
            });
        if (!written)
        {
            return Refuse(Refused(ReasonCodes.Unavailable, "the grant could not be stored; the previous grant stays in force", grant.GrantId));
        }

        _permissions.Active = ActiveGrant.Compile(grant, _options.ClockSkew);
        _permissions.Problem = null;
        // Consumption carries over to the new grant's limits: a new grant is not a fresh budget.
        _quotas.Configure(grant.Limits, _quotas.Snapshot(_time.GetUtcNow()).ToDictionary(s => s.Limit, s => s.Record));
        Log.GrantApplied(_logger, grant.GrantId, _key, State.Version, grant.SignedBy.Value);
        AgentSecurityMetrics.GrantsApplied.Add(1);
        return Applied(grant.GrantId, unchanged: false);
    }

    public async Task<ApplyGrantResult> ApplyElevationAsync(string requestId, string signedGrant)
    {
        var (grant, refusal) = Admit(signedGrant);
        if (refusal is null)
        {
            var verification = await Issuer.VerifyElevationAsync(requestId ?? string.Empty, signedGrant!);
            refusal = verification.Accepted ? null : Refused(verification.Error!, verification.Message!, grant!.GrantId);
        }

        if (refusal is not null)
        {
            return Refuse(refusal);
        }

        var now = _time.GetUtcNow();
        var kept = _permissions.Elevations.Where(e => e.ExpiresAt > now).TakeLast(MaxElevations - 1).ToList();
        var before = State.Elevations.ToList();
        var written = await CommitAsync(
            s => s.Elevations = [.. kept.Select(e => e.CanonicalText), grant!.Envelope.CanonicalText],
            s => s.Elevations = before);
        if (!written)
        {
            return Refuse(Refused(ReasonCodes.Unavailable, "the elevation could not be stored", grant!.GrantId));
        }

        _permissions.SetElevations([.. kept, ActiveGrant.Compile(grant!, _options.ClockSkew)]);
        Log.GrantApplied(_logger, grant!.GrantId, _key, State.Version, grant.SignedBy.Value);
        return Applied(grant.GrantId, unchanged: false);
    }

    public async Task NotifyRevokedAsync(string grantId)
    {
        // Confirmed with the issuer, so a stray call cannot deny an agent anything that was not really revoked. The
        // id is kept even if the agent does not hold that grant yet: an apply of it may be storing right now.
        if (_permissions.IsRevoked(grantId))
        {
            return;
        }

        if ((await Issuer.FindRevokedAsync([grantId])).Count > 0)
        {
            _permissions.MarkRevoked(grantId);
            Log.AgentGrantRevoked(_logger, _key, grantId);
        }
    }

    /// <summary>Only an agent in good standing has a grant that can be delegated: not quarantined, not revoked.</summary>
    public Task<string?> GetActiveGrantAsync(string grantId) => Task.FromResult(
        _permissions.Active is { } active && active.GrantId == grantId && !_permissions.IsRevoked(grantId) &&
        _permissions.State == AgentState.Active && _permissions.Problem is null
            ? active.CanonicalText
            : null);

    // ---- Quarantine and requests -----------------------------------------------------------------------------

    public async Task<QuarantineResult> QuarantineAsync(string signedQuarantine)
    {
        var parsed = QuarantineDocument.Parse(signedQuarantine ?? string.Empty);
        var document = parsed.Succeeded ? parsed.Value : null;
        var failure = parsed.Failure
            ?? KeyFailure()
            ?? (document!.TenantId != _tenantId ? new Failure(ReasonCodes.TenantMismatch, $"the document is for tenant {document.TenantId}, not {_tenantId}") : null)
            ?? (document.AgentId != _agentId ? new Failure(ReasonCodes.AgentMismatch, $"the document is for agent {document.AgentId}, not {_agentId}") : null)
            ?? (State.QuarantineIssuedAt is { } last && document.Envelope.IssuedAt <= last
                ? new Failure(ReasonCodes.Stale, $"issued {DocumentTime.ToText(document.Envelope.IssuedAt)}, not after the last quarantine document ({DocumentTime.ToText(last)})")
                : null);
        if (failure is null)
        {
            var verification = await Issuer.VerifyQuarantineAsync(signedQuarantine!);
            failure = verification.Accepted ? null : new Failure(verification.Error!, verification.Message!);
        }

        if (failure is not null)
        {
            return new QuarantineResult { Agent = _key, State = State.State, Error = failure.Code, Message = failure.Message };
        }

        var newState = document!.Quarantine ? AgentState.Quarantined : AgentState.Active;
        var before = (State.State, State.QuarantineReason, State.QuarantineIssuedAt);
        var written = await CommitAsync(
            s => (s.State, s.QuarantineReason, s.QuarantineIssuedAt) = (newState, document.Reason, document.Envelope.IssuedAt),
            s => (s.State, s.QuarantineReason, s.QuarantineIssuedAt) = before);
        if (!written)
        {
            return new QuarantineResult { Agent = _key, State = State.State, Error = ReasonCodes.Unavailable, Message = "the quarantine could not be stored" };
        }

        _permissions.State = newState;
        Log.QuarantineChanged(_logger, _key, newState.ToString(), document.Reason);
        return new QuarantineResult { Accepted = true, Agent = _key, State = newState };
    }

    public async Task<PermissionRequestResult> RequestPermissionAsync(PermissionRequestInput request)
    {
        var failure = KeyFailure()
            ?? (request is null || !CheckKinds.TryParse(request.Capability, out var kind)
                ? new Failure(ReasonCodes.UnknownCapability, $"\"{request?.Capability}\" is not a capability")
                : request.Resource is not null && kind.ResourceKindOf() is { } resourceKind && !ResourceNames.IsNormal(request.Resource, resourceKind)
                    ? new Failure(ReasonCodes.InvalidResource, $"\"{request.Resource}\" is not in normal form")
                    : string.IsNullOrWhiteSpace(request.Justification) || request.Justification.Length > MaxJustificationLength || request.Justification.Any(char.IsControl)
                        ? new Failure(ReasonCodes.InvalidRequest, $"a justification is 1 to {MaxJustificationLength} characters without control characters")
                        : null);
        if (failure is not null)
        {
            return new PermissionRequestResult { Error = failure.Code, Message = failure.Message };
        }

        if (_permissions.Decide(new CheckRequest(request!.Capability, request.Resource), _time.GetUtcNow(), _key).Allowed)
        {
            return new PermissionRequestResult { AlreadyAllowed = true, Message = $"{_key} may already do this" };
        }

        return await Issuer.RecordRequestAsync(_agentId, request);
    }

    // ---- Memory ---------------------------------------------------------------------------------------------

    public async Task<MemoryResult> GetMemoryAsync(string key)
    {
        var decision = Recorded(await DecideAndMeter(new CheckRequest("memory:read", key ?? string.Empty), _time.GetUtcNow()));
        if (!decision.Allowed)
        {
            return Memory(decision);
        }

        var value = await MemoryStoreAsync(() => _memory.GetAsync(_key, key!));
        return value.Failed ? Memory(value.Failure!) : Memory(decision, value: value.Result, found: value.Result is not null);
    }

    public async Task<MemoryResult> PutMemoryAsync(string key, byte[] value)
    {
        if (value is null)
        {
            return Memory(Decision.Deny(ReasonCodes.InvalidRequest, "a memory value is required"));
        }

        var decision = Recorded(await DecideAndMeter(new CheckRequest("memory:write", key ?? string.Empty), _time.GetUtcNow()));
        if (!decision.Allowed)
        {
            return Memory(decision);
        }

        if (value.Length > _options.MaxMemoryValueBytes)
        {
            return Memory(Decision.Deny(ReasonCodes.QuotaExceeded, $"a memory value is at most {_options.MaxMemoryValueBytes} bytes", decision.GrantId));
        }

        var index = await MemoryIndexAsync();
        if (index is null)
        {
            return Memory(Decision.Deny(ReasonCodes.Unavailable, "the memory store could not be read", decision.GrantId));
        }

        var size = EntrySize(key!, value.Length);
        var existing = index.TryGetValue(key!, out var old) ? old : 0;
        if (await MemoryLimitFailureAsync(size - existing, existing == 0 ? 1 : 0) is { } tooMuch)
        {
            return Memory(Decision.Deny(tooMuch.Code, tooMuch.Message, decision.GrantId));
        }

        var stored = await MemoryStoreAsync(async () =>
        {
            await _memory.PutAsync(_key, key!, value);
            return true;
        });
        if (stored.Failed)
        {
            return Memory(stored.Failure!);
        }

        index[key!] = size;
        return Memory(decision, found: existing != 0);
    }

    public async Task<MemoryResult> DeleteMemoryAsync(string key)
    {
        var decision = Recorded(await DecideAndMeter(new CheckRequest("memory:delete", key ?? string.Empty), _time.GetUtcNow()));
        if (!decision.Allowed)
        {
            return Memory(decision);
        }

        var index = await MemoryIndexAsync();
        if (index is null)
        {
            return Memory(Decision.Deny(ReasonCodes.Unavailable, "the memory store could not be read", decision.GrantId));
        }

        if (!index.ContainsKey(key!))
        {
            return Memory(decision, found: false);
        }

        var deleted = await MemoryStoreAsync(async () =>
        {
            await _memory.DeleteAsync(_key, key!);
            return true;
        });
        if (deleted.Failed)
        {
            return Memory(deleted.Failure!);
        }

        index.Remove(key!);
        return Memory(decision, found: true);
    }

    public async Task<MemoryResult> ListMemoryAsync(string? prefix)
    {
        var now = _time.GetUtcNow();
        if (prefix is not null && !ResourceNames.IsNormal(prefix, ResourceKind.Key))
        {
            return Memory(Decision.Deny(ReasonCodes.InvalidResource, $"\"{prefix}\" is not a memory key in normal form"));
        }

        // Listing needs the read level; which keys show is decided per key by the read scope.
        var gate = _permissions.Decide(new CheckRequest("memory:read", prefix), now, _key);
        if (!gate.Allowed && gate.Reason != ReasonCodes.OutOfScope)
        {
            return Memory(Recorded(gate));
        }

        var metered = Recorded(await DecideAndMeterListing(now, gate));
        if (!metered.Allowed)
        {
            return Memory(metered);
        }

        var index = await MemoryIndexAsync();
        if (index is null)
        {
            return Memory(Decision.Deny(ReasonCodes.Unavailable, "the memory store could not be read", metered.GrantId));
        }

        var keys = index.Keys
            .Where(k => prefix is null || k == prefix || k.StartsWith(prefix + "/", StringComparison.Ordinal))
            .Where(k => _permissions.Decide(new CheckRequest("memory:read", k), now, _key).Allowed)
            .Order(StringComparer.Ordinal)
            .ToArray();
        return Memory(metered, keys: keys);
    }

    /// <summary>Meters a listing like one read check, whatever the scopes (the keys shown are filtered by them).</summary>
    private async Task<Decision> DecideAndMeterListing(DateTimeOffset now, Decision gate)
    {
        if (gate.Allowed)
        {
            return await DecideAndMeter(new CheckRequest("memory:read", null), now) is { Allowed: true } metered ? metered : gate;
        }

        var plan = _quotas.Plan(CheckKind.MemoryRead, null, now);
        if (plan.DenialReason is not null)
        {
            return Decision.Deny(plan.DenialReason, plan.DenialMessage!, gate.GrantId);
        }

        var allowed = new Decision { Allowed = true, Reason = ReasonCodes.Allowed, Message = "listing the readable keys", GrantId = gate.GrantId };
        return plan.NeedsAwait ? await MeterSlowAsync(allowed, CheckKind.MemoryRead, null, now) : Commit(plan, allowed, now);
    }

    private Decision Commit(MeterPlan plan, Decision allowed, DateTimeOffset now)
    {
        _quotas.Commit(plan, now);
        return allowed;
    }

    /// <summary>Whether adding bytes (and keys) keeps the agent's memory within its limits.</summary>
    private async Task<Failure?> MemoryLimitFailureAsync(long addedBytes, int keysAdded)
    {
        var index = await MemoryIndexAsync();
        if (index is null)
        {
            return new Failure(ReasonCodes.Unavailable, "the memory store could not be read");
        }

        var limit = Math.Min(_permissions.Active?.Limits.MemoryBytesStored ?? long.MaxValue, _options.MaxMemoryBytesPerAgent);
        var used = index.Values.Sum();
        if (used + addedBytes > limit)
        {
            return new Failure(ReasonCodes.QuotaExceeded, $"memoryBytesStored ({limit}) leaves {Math.Max(0, limit - used)} bytes; this needs {addedBytes}");
        }

        return index.Count + keysAdded > _options.MaxMemoryKeys
            ? new Failure(ReasonCodes.QuotaExceeded, $"an agent's memory holds at most {_options.MaxMemoryKeys} keys")
            : null;
    }

    private async Task<Dictionary<string, long>?> MemoryIndexAsync()
    {
        if (_memoryIndex is null)
        {
            var listed = await MemoryStoreAsync(() => _memory.ListAsync(_key));
            _memoryIndex = listed.Failed ? null : listed.Result!.ToDictionary(p => p.Key, p => EntrySize(p.Key, p.Value), StringComparer.Ordinal);
        }

        return _memoryIndex;
    }

    /// <summary>A key's bytes count as well as its value's.</summary>
    private static long EntrySize(string key, long valueBytes) => System.Text.Encoding.UTF8.GetByteCount(key) + valueBytes;

    private async Task<(bool Failed, T? Result, Decision? Failure)> MemoryStoreAsync<T>(Func<Task<T>> operation)
    {
        try
        {
            return (false, await operation(), null);
        }
#pragma warning disable CA1031 // A store failure is an unavailable answer, never an exception to the agent.
        catch (Exception e)
#pragma warning restore CA1031
        {
            Log.MemoryStoreFailed(_logger, e, _key);
            _memoryIndex = null; // read again next time: the store's truth may differ now
            return (true, default, Decision.Deny(ReasonCodes.Unavailable, "the memory store failed", _permissions.Active?.GrantId));
        }
    }

    private MemoryResult Memory(Decision decision, byte[]? value = null, IReadOnlyList<string>? keys = null, bool found = false) => new()
    {
        Decision = decision,
        Value = value,
        Keys = keys,
        Found = found,
        StoredBytes = _memoryIndex?.Values.Sum() ?? 0,
    };

    public Task<AgentStatus> GetStatusAsync() => Task.FromResult(new AgentStatus
    {
        Agent = _key,
        State = _permissions.State,
        GrantId = _permissions.Active?.GrantId,
        Version = State.Version,
        SignedBy = _permissions.Active?.SignedBy,
        NotBefore = _permissions.Active?.NotBefore,
        ExpiresAt = _permissions.Active?.ExpiresAt,
        PreviousGrantIds = State.PreviousGrantIds.ToArray(),
        Problem = _permissions.Problem,
        Revoked = _permissions.IsActiveRevoked,
        ElevationGrantIds = _permissions.Elevations.Where(e => e.ExpiresAt > _time.GetUtcNow() && !_permissions.IsRevoked(e.GrantId)).Select(e => e.GrantId).ToArray(),
        QuarantineReason = _permissions.State == AgentState.Quarantined ? State.QuarantineReason : null,
    });

    public Task PingAsync() => Task.CompletedTask;

    // ---- Helpers ---------------------------------------------------------------------------------------------

    /// <summary>The checks an agent makes itself before asking the issuer: form, and that the grant is for this agent.</summary>
    private (GrantDocument? Grant, ApplyGrantResult? Refusal) Admit(string? signedGrant)
    {
        if (KeyFailure() is { } bad)
        {
            return (null, Refused(bad.Code, bad.Message));
        }

        var parsed = GrantDocument.Parse(signedGrant ?? string.Empty);
        if (!parsed.Succeeded)
        {
            return (null, Refused(parsed.Failure!.Code, parsed.Failure.Message));
        }

        var grant = parsed.Value;
        return grant.TenantId != _tenantId
            ? (grant, Refused(ReasonCodes.TenantMismatch, $"the grant is for tenant {grant.TenantId}, not {_tenantId}", grant.GrantId))
            : grant.AgentId != _agentId
                ? (grant, Refused(ReasonCodes.AgentMismatch, $"the grant is for agent {grant.TenantId}/{grant.AgentId}, not {_key}", grant.GrantId))
                : (grant, null);
    }

    private Failure? KeyFailure() => _validKey ? null : new Failure(ReasonCodes.InvalidField, $"\"{_key}\" is not an agent key (tenant/agent)");

    /// <summary>
    /// Loads a stored grant. It was fully verified when applied; form, signature and addressee are checked again
    /// against storage altered behind the cluster's back. A grant that fails makes the agent deny everything.
    /// </summary>
    private ActiveGrant? LoadStored(string stored, string what)
    {
        var parsed = GrantDocument.Parse(stored);
        var failure = !parsed.Succeeded ? parsed.Failure
            : DocumentChecks.Signature(parsed.Value.Envelope)
            ?? (parsed.Value.TenantId != _tenantId || parsed.Value.AgentId != _agentId
                ? new Failure(ReasonCodes.AgentMismatch, "the stored grant names another agent")
                : null);
        if (failure is null)
        {
            return ActiveGrant.Compile(parsed.Value, _options.ClockSkew);
        }

        _permissions.Problem = $"the stored {what} failed verification ({failure.Code}); apply a grant again";
        Log.StoredGrantRejected(_logger, _key, failure.Message);
        return null;
    }

    /// <summary>Applies a change, writes it, and undoes it if the write fails: nothing half-applied.</summary>
    private async Task<bool> CommitAsync(Action<AgentGrainState> change, Action<AgentGrainState> undo)
    {
        change(State);
        try
        {
            await _state.WriteStateAsync();
            return true;
        }
#pragma warning disable CA1031 // Any storage failure refuses the change; the caller gets unavailable.
        catch (Exception e)
#pragma warning restore CA1031
        {
            undo(State);
            Log.GrantNotPersisted(_logger, e, _key);
            DeactivateOnIdle(); // the stored ETag may be stale now; a fresh activation reads the truth
            return false;
        }
    }

    private ApplyGrantResult Refuse(ApplyGrantResult refusal)
    {
        Log.GrantRefused(_logger, _key, refusal.Error!, refusal.Message!);
        AgentSecurityMetrics.RecordRefusedGrant(refusal.Error!);
        return refusal;
    }

    private ApplyGrantResult Applied(string grantId, bool unchanged) =>
        new() { Applied = true, Agent = _key, GrantId = grantId, Version = State.Version, Unchanged = unchanged };

    private ApplyGrantResult Refused(string error, string message, string? grantId = null) =>
        ApplyGrantResult.Refused(_key, error, message, grantId);
}
